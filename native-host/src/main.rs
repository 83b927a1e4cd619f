//! Entry point. Launched by a browser (argv[1] is the caller's origin, or for
//! Firefox the manifest path followed by the add-on id) it speaks native
//! messaging on stdin/stdout; otherwise it is a command for people.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use ringside_core::browser::Browser;
use ringside_core::extension_id::DEV_EXTENSION_ID;
use ringside_host::doctor;
use ringside_host::install::{self, InstallRequest};
use ringside_host::locations::{Dirs, Scope};
use ringside_host::serve::{self, HostIdentity, ServeEnd};

#[derive(Parser)]
#[command(
    name = "ringside-host",
    version,
    about = "Ringside's native messaging host.\n\nBrowsers start it with the caller's origin as the only argument; people use the subcommands."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Register the host with a browser (writes its native messaging manifest).
    Install(Target),
    /// Remove what `install` wrote for a browser and scope.
    Uninstall(Target),
    /// Report what is registered where, and how to fix what is wrong.
    Doctor {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the deployment files for IT: Linux policy JSON, Windows .reg and a
    /// macOS .mobileconfig (force-install, host allowed, managed configuration),
    /// the macOS and Windows host registrations, and updates.xml.
    DeployFiles(DeployArgs),
    /// Find phone numbers in stdin (read as one text), one JSON object per line:
    /// start and end (UTF-8 byte offsets), text, e164, extension. Shows what the
    /// extension marks, and why a number is (not) found.
    Detect {
        /// Region for numbers written without +, e.g. FR (default: from LANG, else US).
        #[arg(long, value_name = "XX")]
        region: Option<String>,
    },
}

#[derive(clap::Args)]
struct Target {
    /// Browser to register with.
    #[arg(long, value_parser = ["chrome", "chromium", "edge", "firefox"], default_value = "chrome")]
    browser: String,
    /// Register for every user of this machine (needs root / administrator).
    #[arg(long, conflicts_with = "profile_dir")]
    system: bool,
    /// Register for one Chromium profile only (its --user-data-dir).
    #[arg(long, value_name = "DIR")]
    profile_dir: Option<PathBuf>,
    /// The extension allowed to start the host: its 32-letter id
    /// (chrome://extensions shows it), or for Firefox the add-on id.
    /// `install` needs it, or `--dev`.
    #[arg(long, value_name = "ID")]
    extension_id: Option<String>,
    /// Development setup: allow the development build's id (its key is
    /// committed, so never on an agent's machine).
    #[arg(long, conflicts_with = "extension_id")]
    dev: bool,
}

#[derive(clap::Args)]
struct DeployArgs {
    /// Folder to write into (created; existing files are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The extension's id (from the key its CRX is signed with).
    #[arg(long, value_name = "ID", default_value = DEV_EXTENSION_ID)]
    extension_id: String,
    /// The update manifest URL agents' browsers poll (where updates.xml is served);
    /// use https://clients2.google.com/service/update2/crx for a store build.
    #[arg(long, value_name = "URL")]
    update_url: String,
    /// The managed configuration (JSON object of managed_schema.json keys);
    /// default: an example with every key, to edit.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Also write updates.xml announcing this version at --crx-url.
    #[arg(long, value_name = "X.Y.Z", requires = "crx_url")]
    version: Option<String>,
    /// Where the CRX of --version is served.
    #[arg(long, value_name = "URL", requires = "version")]
    crx_url: Option<String>,
    /// The Firefox add-on id (manifest.json's browser_specific_settings.gecko.id).
    #[arg(long, value_name = "ID", default_value = ringside_host::install::FIREFOX_ADDON_ID)]
    firefox_addon_id: String,
    /// Where the Mozilla-signed .xpi is served: Firefox's policies.json then
    /// force-installs it from there.
    #[arg(long, value_name = "URL")]
    xpi_url: Option<String>,
}

const MANAGED_SCHEMA: &str = include_str!("../../extension/static/managed_schema.json");

fn deploy_files(a: &DeployArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    use ringside_core::deploy::{self, Deployment};
    anyhow::ensure!(
        ringside_core::extension_id::is_valid(&a.extension_id),
        "`{}` is not an extension id: 32 letters from a to p",
        a.extension_id
    );
    let schema: serde_json::Value = serde_json::from_str(MANAGED_SCHEMA)?;
    let config = match &a.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let v: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            let serde_json::Value::Object(map) = v else {
                anyhow::bail!("{} must hold a JSON object of settings", path.display());
            };
            map
        }
        None => deploy::example_config(&schema).map_err(|missing| {
            anyhow::anyhow!("no example for the schema keys {missing:?} (a bug)")
        })?,
    };
    // The same validation the extension makes: refuse to deploy what agents
    // would see reported as invalid.
    let checked = ringside_core::settings::merge(
        &serde_json::Value::Object(config.clone()),
        &serde_json::json!({}),
    );
    let known = deploy::schema_keys(&schema);
    let unknown: Vec<&String> = config.keys().filter(|k| !known.contains(k)).collect();
    anyhow::ensure!(
        unknown.is_empty(),
        "unknown settings {unknown:?}; the keys are {known:?}"
    );
    if let Some(p) = checked.problems.first() {
        anyhow::bail!("setting {} is invalid: {}", p.key, p.message);
    }
    anyhow::ensure!(
        deploy::is_valid_addon_id(&a.firefox_addon_id),
        "`{}` is not a Firefox add-on id: name@domain, or a GUID in braces",
        a.firefox_addon_id
    );
    let d = Deployment {
        extension_id: a.extension_id.clone(),
        update_url: a.update_url.clone(),
        config,
        firefox_addon_id: a.firefox_addon_id.clone(),
        xpi_url: a.xpi_url.clone(),
    };
    let mut files = ringside_host::deploy::files(&d)?;
    if let (Some(version), Some(crx_url)) = (&a.version, &a.crx_url) {
        anyhow::ensure!(
            deploy::is_valid_version(version),
            "`{version}` is not an extension version (1 to 4 numbers, e.g. 1.2.3)"
        );
        files.push(ringside_host::deploy::OutFile {
            path: "updates.xml".into(),
            text: deploy::update_manifest(&a.extension_id, version, crx_url),
        });
    }
    for f in &files {
        let path = a.out.join(&f.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        if path.file_name().is_some_and(|n| n == "host.json") {
            // The host configuration an admin may add client secrets to:
            // 0640 here, so a copy (`cp -R`) keeps it from other users.
            let tmp = path.with_extension("json.tmp");
            let mut file = ringside_host::private_file::create(&tmp, &path, true)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            file.write_all(f.text.as_bytes())
                .and_then(|()| std::fs::rename(&tmp, &path))
                .with_context(|| format!("cannot write {}", path.display()))?;
        } else {
            std::fs::write(&path, &f.text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        writeln!(out, "{}", path.display())?;
    }
    Ok(())
}

impl Target {
    fn browser(&self) -> Browser {
        Browser::from_cli_name(&self.browser).unwrap_or(Browser::Chrome)
    }
    fn scope(&self) -> anyhow::Result<Scope> {
        Ok(match (&self.profile_dir, self.system) {
            (Some(dir), _) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                Scope::Profile(
                    std::fs::canonicalize(dir)
                        .with_context(|| format!("cannot resolve {}", dir.display()))?,
                )
            }
            (None, true) => Scope::System,
            (None, false) => Scope::User,
        })
    }
}

fn is_browser_launch(args: &[OsString]) -> bool {
    let Some(first) = args.get(1).and_then(|a| a.to_str()) else {
        return false;
    };
    first.starts_with("chrome-extension://")
        || (first.ends_with(".json") && args.len() >= 3 && !first.starts_with('-'))
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if is_browser_launch(&args) {
        return run_native_messaging(&args);
    }
    let cli = Cli::parse_from(args);
    match run_command(cli.command) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "ringside-host: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dirs() -> anyhow::Result<Dirs> {
    Dirs::from_env()
        .context("cannot tell the home directory (HOME is not set) or this OS is not supported")
}

fn run_command(command: Command) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if let Command::Detect { region } = &command {
        return detect(region.as_deref(), &mut out);
    }
    if let Command::DeployFiles(a) = &command {
        deploy_files(a, &mut out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let dirs = dirs()?;
    match command {
        Command::Detect { .. } | Command::DeployFiles(_) => Ok(ExitCode::SUCCESS),
        Command::Install(t) => {
            let browser = t.browser();
            let extension_id =
                install::extension_id_to_allow(browser, t.extension_id.as_deref(), t.dev)?;
            let exe = std::env::current_exe()
                .and_then(std::fs::canonicalize)
                .map(ringside_host::locations::plain_path)
                .context("cannot tell where this binary is")?;
            let req = InstallRequest {
                browser,
                scope: t.scope()?,
                extension_id,
                host_path: exe,
            };
            let done = install::install(&dirs, &req)?;
            writeln!(
                out,
                "Registered {} for {} ({} scope).\n  manifest: {}{}\n  allows:   {}\n  config:   {}",
                ringside_core::protocol::HOST_NAME,
                browser.display_name(),
                req.scope.name(),
                done.location.manifest.display(),
                done.location
                    .registry_key
                    .map(|k| format!("\n  registry: {k}"))
                    .unwrap_or_default(),
                done.caller,
                done.config.display()
            )?;
            writeln!(
                out,
                "Reload the extension (or restart the browser) to connect."
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Uninstall(t) => {
            let browser = t.browser();
            let scope = match (&t.profile_dir, t.system) {
                (Some(dir), _) => Scope::Profile(std::fs::canonicalize(dir).unwrap_or(dir.clone())),
                (None, true) => Scope::System,
                (None, false) => Scope::User,
            };
            let done = install::uninstall(&dirs, browser, &scope)?;
            match done.removed_manifest {
                Some(p) => writeln!(out, "Removed {}.", p.display())?,
                None => writeln!(
                    out,
                    "Nothing to remove for {} ({} scope).",
                    browser.display_name(),
                    scope.name()
                )?,
            }
            for c in done.removed_callers {
                writeln!(out, "The host no longer accepts {c}.")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor { json } => {
            let exe = std::env::current_exe().ok();
            let report = doctor::diagnose(&dirs, exe.as_deref());
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                write!(out, "{}", doctor::render(&report))?;
            }
            Ok(if report.healthy() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn detect(region: Option<&str>, out: &mut impl std::io::Write) -> anyhow::Result<ExitCode> {
    use ringside_core::phone::{Detector, region_from_locale};
    use std::io::Read as _;
    let region = match region {
        Some(r) => r.to_owned(),
        None => std::env::var("LANG")
            .ok()
            .and_then(|l| region_from_locale(l.split('.').next().unwrap_or("")))
            .unwrap_or_else(|| "US".to_owned()),
    };
    let detector = Detector::new(&region)?;
    let mut bytes = vec![];
    std::io::stdin().read_to_end(&mut bytes)?;
    let text = String::from_utf8(bytes).context("stdin is not UTF-8 text")?;
    for m in detector.find(&text) {
        writeln!(out, "{}", serde_json::to_string(&m)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn init_logging() {
    // stdout is the protocol: logs go to stderr, which Chromium forwards to its
    // own stderr (and to chrome_debug.log with --enable-logging).
    let filter = tracing_subscriber::EnvFilter::try_from_env("RINGSIDE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

fn run_native_messaging(args: &[OsString]) -> ExitCode {
    init_logging();
    let first = args[1].to_string_lossy().into_owned();
    // Chromium: argv[1] is the origin. Firefox: argv[1] is the manifest path and
    // argv[2] the add-on id.
    let caller = if first.starts_with("chrome-extension://") {
        first
    } else {
        args.get(2)
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let dirs = Dirs::from_env();
    let (allowed, problems) = match &dirs {
        Some(d) => install::allowed_callers(d),
        None => (vec![], vec!["HOME is not set".to_owned()]),
    };
    for p in &problems {
        tracing::warn!("allow-list: {p}");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !allowed.contains(&caller) {
        tracing::error!(
            "refusing caller {caller}: not in this host's allow-list ({}). Run `ringside-host install --extension-id <id>` for this extension.",
            if allowed.is_empty() {
                "empty".to_owned()
            } else {
                allowed.join(", ")
            }
        );
        runtime.block_on(serve::refuse(tokio::io::stdout(), &caller));
        runtime.shutdown_background();
        return ExitCode::FAILURE;
    }
    tracing::info!(caller = %caller, pid = std::process::id(), "serving");
    let mut session = serve::Session::new(HostIdentity::current());
    if let Some(d) = &dirs {
        session = session
            .with_dialer_store(ringside_host::locations::config_file(d, false))
            .with_auth(ringside_host::tokens::Auth::new(
                std::sync::Arc::new(ringside_host::secrets::OsStore),
                ringside_host::install::oauth_clients(d),
            ))
            .with_mail(ringside_host::mail::Mail::new(
                std::sync::Arc::new(ringside_host::secrets::OsStore),
                ringside_host::install::imap_roots(d),
            ));
    }
    let end = runtime.block_on(async {
        let (reader, writer) = stdio();
        serve::serve_session(reader, writer, session).await
    });
    // A blocked stdin read must not hold the process: every reply is already flushed.
    runtime.shutdown_background();
    match end {
        ServeEnd::Closed => {
            tracing::info!("the browser closed the connection");
            ExitCode::SUCCESS
        }
        ServeEnd::Frame(_) | ServeEnd::Write(_) => ExitCode::FAILURE,
    }
}

type Reader = Box<dyn tokio::io::AsyncRead + Unpin>;
type Writer = Box<dyn tokio::io::AsyncWrite + Unpin>;

/// stdin/stdout for the session. Browsers connect the host through pipes; those
/// are registered with the runtime's reactor directly, so each message costs no
/// hop through tokio's blocking thread pool (tokio::io::stdin's strategy, kept
/// as the fallback for anything that is not a pipe).
fn stdio() -> (Reader, Writer) {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        use tokio::net::unix::pipe;
        let reader: Option<Reader> = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .and_then(|fd| pipe::Receiver::from_owned_fd(fd).ok())
            .map(|r| Box::new(r) as Reader);
        let writer: Option<Writer> = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .and_then(|fd| pipe::Sender::from_owned_fd(fd).ok())
            .map(|w| Box::new(w) as Writer);
        if let (Some(r), Some(w)) = (reader, writer) {
            return (r, w);
        }
    }
    (Box::new(tokio::io::stdin()), Box::new(tokio::io::stdout()))
}
