//! Install/uninstall against a temporary home and root.
use super::*;
use crate::locations::Os;
use ringside_core::extension_id::DEV_EXTENSION_ID;

fn dirs(tmp: &Path) -> Dirs {
    Dirs {
        os: Os::Linux,
        home: tmp.join("home"),
        config_home: tmp.join("home/.config"),
        local_app_data: tmp.join("lad"),
        program_data: tmp.join("pd"),
        root: tmp.join("root"),
    }
}

fn req(browser: Browser, scope: Scope, id: &str) -> InstallRequest {
    InstallRequest {
        browser,
        scope,
        extension_id: id.to_owned(),
        host_path: PathBuf::from("/opt/ringside/ringside-host"),
    }
}

#[test]
fn install_writes_manifest_and_allow_list_idempotently() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let r = req(Browser::Chromium, Scope::User, DEV_EXTENSION_ID);
    let out = install(&d, &r).unwrap();
    install(&d, &r).unwrap();
    let m = read_manifest(&out.location.manifest).unwrap().unwrap();
    assert_eq!(m.name, "com.ringside.host");
    assert_eq!(m.kind, "stdio");
    assert_eq!(m.path, PathBuf::from("/opt/ringside/ringside-host"));
    assert_eq!(
        m.allowed_origins,
        vec![format!("chrome-extension://{DEV_EXTENSION_ID}/")]
    );
    let (callers, problems) = allowed_callers(&d);
    assert!(problems.is_empty());
    assert_eq!(callers, m.allowed_origins);
    let cfg = HostConfig::load(&out.config).unwrap();
    assert_eq!(cfg.installs.len(), 1);
}

#[test]
fn second_id_is_added_and_uninstall_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let other = "abcdefghijklmnopabcdefghijklmnop";
    install(&d, &req(Browser::Chrome, Scope::User, DEV_EXTENSION_ID)).unwrap();
    let out = install(&d, &req(Browser::Chrome, Scope::User, other)).unwrap();
    install(&d, &req(Browser::Chromium, Scope::User, other)).unwrap();
    let m = read_manifest(&out.location.manifest).unwrap().unwrap();
    assert_eq!(m.allowed_origins.len(), 2);

    let u = uninstall(&d, Browser::Chrome, &Scope::User).unwrap();
    assert_eq!(u.removed_manifest, Some(out.location.manifest.clone()));
    // The dev id was only admitted by the Chrome manifest; `other` is still
    // admitted by the Chromium one.
    assert_eq!(
        u.removed_callers,
        vec![format!("chrome-extension://{DEV_EXTENSION_ID}/")]
    );
    let (callers, _) = allowed_callers(&d);
    assert_eq!(callers, vec![format!("chrome-extension://{other}/")]);
    uninstall(&d, Browser::Chromium, &Scope::User).unwrap();
    assert!(!out.config.exists());
    // Uninstalling what is not there is fine.
    assert_eq!(
        uninstall(&d, Browser::Chromium, &Scope::User)
            .unwrap()
            .removed_manifest,
        None
    );
}

#[test]
fn system_and_profile_scopes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let out = install(&d, &req(Browser::Edge, Scope::System, DEV_EXTENSION_ID)).unwrap();
    assert!(
        out.location
            .manifest
            .starts_with(tmp.path().join("root/etc/opt/edge"))
    );
    assert!(out.config.starts_with(tmp.path().join("root/etc/ringside")));
    let profile = tmp.path().join("profile");
    let out = install(
        &d,
        &req(
            Browser::Chromium,
            Scope::Profile(profile.clone()),
            DEV_EXTENSION_ID,
        ),
    )
    .unwrap();
    assert_eq!(
        out.location.manifest,
        profile.join("NativeMessagingHosts/com.ringside.host.json")
    );
}

#[cfg(unix)]
#[test]
fn config_files_are_not_readable_by_other_users() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    // An older version's world-readable file is replaced by a private one.
    let user_cfg = locations::config_file(&d, false);
    fs::create_dir_all(user_cfg.parent().unwrap()).unwrap();
    fs::write(&user_cfg, "{}").unwrap();
    fs::set_permissions(&user_cfg, fs::Permissions::from_mode(0o644)).unwrap();
    let user = install(&d, &req(Browser::Chrome, Scope::User, DEV_EXTENSION_ID)).unwrap();
    assert_eq!(user.config, user_cfg);
    assert_eq!(mode(&user.config), 0o600);
    let system = install(&d, &req(Browser::Chrome, Scope::System, DEV_EXTENSION_ID)).unwrap();
    assert_eq!(mode(&system.config), 0o640);
    // Browsers (and every user, for a system manifest) read the manifests.
    assert_eq!(mode(&system.location.manifest) & 0o004, 0o004);
    // Rewrites keep the mode: a second extension, the dialer record.
    install(
        &d,
        &req(
            Browser::Chromium,
            Scope::System,
            "abcdefghijklmnopabcdefghijklmnop",
        ),
    )
    .unwrap();
    assert_eq!(mode(&system.config), 0o640);
    let dialer = ringside_core::protocol::DialerConfig {
        adapter: ringside_core::protocol::DialerKind::Tel,
        address: None,
        sip: Default::default(),
        template: None,
        app_name: None,
    };
    remember_dialer(&user.config, &dialer).unwrap();
    assert_eq!(mode(&user.config), 0o600);
    assert!(!user.config.with_extension("json.tmp").exists());
}

#[test]
fn an_unreadable_system_config_falls_back_to_the_system_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let other = "abcdefghijklmnopabcdefghijklmnop";
    install(&d, &req(Browser::Chrome, Scope::System, DEV_EXTENSION_ID)).unwrap();
    install(&d, &req(Browser::Edge, Scope::System, other)).unwrap();
    // The test runs as root, whom modes do not stop: the agent's
    // permission error is given as what loading the file returned.
    let denied = || InstallError::Io {
        path: locations::config_file(&d, true),
        source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
    };
    let (mut callers, mut problems) = (vec![], vec![]);
    callers_of(&d, true, Err(denied()), &mut callers, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        callers,
        vec![
            format!("chrome-extension://{DEV_EXTENSION_ID}/"),
            format!("chrome-extension://{other}/")
        ]
    );
    // The user's own file gets no such stand-in, and other errors are reported.
    let (mut callers, mut problems) = (vec![], vec![]);
    callers_of(&d, false, Err(denied()), &mut callers, &mut problems);
    assert!(callers.is_empty());
    assert_eq!(problems.len(), 1);
}

#[test]
fn bad_extension_id_is_refused_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let e = install(&d, &req(Browser::Chrome, Scope::User, "nope")).unwrap_err();
    assert!(matches!(e, InstallError::BadExtensionId(_)));
    assert!(!tmp.path().join("home").exists());
}

#[test]
fn no_extension_id_is_refused_unless_dev() {
    for browser in [Browser::Chrome, Browser::Edge, Browser::Firefox] {
        let e = extension_id_to_allow(browser, None, false).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("--extension-id <id>"), "{text}");
        assert!(text.contains("--dev"), "{text}");
    }
    let e = extension_id_to_allow(Browser::Chrome, None, false).unwrap_err();
    assert!(e.to_string().contains("chrome://extensions"), "{e}");
    assert_eq!(
        extension_id_to_allow(Browser::Chrome, None, true).unwrap(),
        DEV_EXTENSION_ID
    );
    assert_eq!(
        extension_id_to_allow(Browser::Firefox, None, true).unwrap(),
        FIREFOX_ADDON_ID
    );
    let other = "abcdefghijklmnopabcdefghijklmnop";
    assert_eq!(
        extension_id_to_allow(Browser::Chrome, Some(other), false).unwrap(),
        other
    );
}

#[test]
fn firefox_uses_allowed_extensions() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let out = install(&d, &req(Browser::Firefox, Scope::User, FIREFOX_ADDON_ID)).unwrap();
    let m = read_manifest(&out.location.manifest).unwrap().unwrap();
    assert_eq!(m.allowed_extensions, vec![FIREFOX_ADDON_ID.to_owned()]);
    assert!(m.allowed_origins.is_empty());
}

#[test]
fn corrupt_config_is_reported_not_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let cfg = locations::config_file(&d, false);
    fs::create_dir_all(cfg.parent().unwrap()).unwrap();
    fs::write(&cfg, "{not json").unwrap();
    let e = install(&d, &req(Browser::Chrome, Scope::User, DEV_EXTENSION_ID)).unwrap_err();
    assert!(e.to_string().contains("not valid JSON"), "{e}");
    assert_eq!(fs::read_to_string(&cfg).unwrap(), "{not json");
}
