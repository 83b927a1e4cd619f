//! Doctor findings for healthy, stale and broken registrations.
use super::*;
use crate::install::{InstallRequest, install};
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

fn fake_binary(tmp: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = tmp.join("bin/ringside-host");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn nothing_installed_is_unhealthy_with_a_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let r = diagnose(&dirs(tmp.path()), None);
    assert!(!r.healthy());
    assert!(render(&r).contains("ringside-host install --browser"));
}

#[test]
fn healthy_profile_install() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let bin = fake_binary(tmp.path());
    install(
        &d,
        &InstallRequest {
            browser: Browser::Chromium,
            scope: Scope::Profile(tmp.path().join("prof")),
            extension_id: DEV_EXTENSION_ID.into(),
            host_path: bin.clone(),
        },
    )
    .unwrap();
    let r = diagnose(&d, Some(&bin));
    assert!(r.healthy(), "{}", render(&r));
    assert_eq!(r.registrations.len(), 1);
    assert_eq!(r.registrations[0].scope, "profile");
}

#[test]
fn user_level_hosts_off_by_policy_leaves_only_system_registrations() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let bin = fake_binary(tmp.path());
    let req = |scope| InstallRequest {
        browser: Browser::Chromium,
        scope,
        extension_id: DEV_EXTENSION_ID.into(),
        host_path: bin.clone(),
    };
    install(&d, &req(Scope::User)).unwrap();
    assert!(diagnose(&d, Some(&bin)).healthy());
    let policy_dir = d.root.join("etc/chromium/policies/managed");
    std::fs::create_dir_all(&policy_dir).unwrap();
    std::fs::write(
        policy_dir.join("it.json"),
        r#"{"NativeMessagingUserLevelHosts": false}"#,
    )
    .unwrap();
    // Not JSON: skipped, as Chromium skips it.
    std::fs::write(policy_dir.join("broken.json"), "{").unwrap();
    let r = diagnose(&d, Some(&bin));
    assert!(!r.healthy());
    let text = render(&r);
    assert!(
        text.contains("NativeMessagingUserLevelHosts is false"),
        "{text}"
    );
    assert!(text.contains("only a system-level host counts"), "{text}");
    assert!(
        text.contains("fix: sudo ringside-host install --system --browser chromium"),
        "{text}"
    );
    // With a system registration the browser works; the user one is only a warning.
    install(&d, &req(Scope::System)).unwrap();
    let r = diagnose(&d, Some(&bin));
    assert!(r.healthy(), "{}", render(&r));
    let user = r.registrations.iter().find(|f| f.scope == "user").unwrap();
    assert_eq!(user.health, Health::Warning);
    // A blocklist without the allow-list entry is reported; with it, not.
    std::fs::write(
        policy_dir.join("block.json"),
        r#"{"NativeMessagingBlocklist": ["*"]}"#,
    )
    .unwrap();
    let r = diagnose(&d, Some(&bin));
    assert!(render(&r).contains("blocks the host by policy"));
    std::fs::write(
        policy_dir.join("allow.json"),
        r#"{"NativeMessagingAllowlist": ["com.ringside.host"]}"#,
    )
    .unwrap();
    assert!(diagnose(&d, Some(&bin)).healthy());
}

#[test]
fn missing_binary_and_foreign_caller_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let out = install(
        &d,
        &InstallRequest {
            browser: Browser::Chrome,
            scope: Scope::User,
            extension_id: DEV_EXTENSION_ID.into(),
            host_path: tmp.path().join("gone/ringside-host"),
        },
    )
    .unwrap();
    // Someone hand-edits the manifest to admit another extension.
    let mut m = install::read_manifest(&out.location.manifest)
        .unwrap()
        .unwrap();
    m.allowed_origins
        .push("chrome-extension://abcdefghijklmnopabcdefghijklmnop/".into());
    std::fs::write(&out.location.manifest, serde_json::to_string(&m).unwrap()).unwrap();
    let r = diagnose(&d, None);
    assert!(!r.healthy());
    let text = render(&r);
    assert!(
        text.contains("does not exist or is not executable"),
        "{text}"
    );
    assert!(text.contains("not in the host's allow-list"), "{text}");
    assert!(
        text.contains("fix: ringside-host install --browser chrome"),
        "{text}"
    );
}

#[test]
fn softphone_reachability_is_reported() {
    use ringside_core::protocol::{DialerConfig, DialerKind};
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let bin = fake_binary(tmp.path());
    install(
        &d,
        &InstallRequest {
            browser: Browser::Chromium,
            scope: Scope::Profile(tmp.path().join("prof")),
            extension_id: DEV_EXTENSION_ID.into(),
            host_path: bin.clone(),
        },
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap().to_string();
    let cfg_path = locations::config_file(&d, false);
    let cfg = |address: &str| DialerConfig {
        adapter: DialerKind::Baresip,
        address: Some(address.to_owned()),
        sip: Default::default(),
        template: None,
        app_name: None,
    };
    crate::install::remember_dialer(&cfg_path, &cfg(&up)).unwrap();
    let r = diagnose(&d, Some(&bin));
    assert!(r.healthy(), "{}", render(&r));
    assert!(render(&r).contains(&format!("softphone (baresip at {up}): reachable")));

    drop(listener);
    crate::install::remember_dialer(&cfg_path, &cfg(&up)).unwrap();
    let r = diagnose(&d, Some(&bin));
    assert!(!r.healthy());
    let text = render(&r);
    assert!(text.contains("NOT reachable"), "{text}");
    assert!(text.contains("start the softphone"), "{text}");
    // The install records survived the dialer being recorded.
    assert_eq!(HostConfig::load(&cfg_path).unwrap().installs.len(), 1);
}

#[test]
fn vanished_profile_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let bin = fake_binary(tmp.path());
    let prof = tmp.path().join("prof");
    install(
        &d,
        &InstallRequest {
            browser: Browser::Chromium,
            scope: Scope::Profile(prof.clone()),
            extension_id: DEV_EXTENSION_ID.into(),
            host_path: bin.clone(),
        },
    )
    .unwrap();
    std::fs::remove_dir_all(&prof).unwrap();
    let r = diagnose(&d, Some(&bin));
    assert!(!r.healthy());
    assert!(render(&r).contains("recorded at install is gone"));
}

#[cfg(unix)]
#[test]
fn a_config_file_other_users_can_read_is_a_warning() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let d = dirs(tmp.path());
    let bin = fake_binary(tmp.path());
    install(
        &d,
        &InstallRequest {
            browser: Browser::Chromium,
            scope: Scope::Profile(tmp.path().join("prof")),
            extension_id: DEV_EXTENSION_ID.into(),
            host_path: bin.clone(),
        },
    )
    .unwrap();
    let cfg_path = locations::config_file(&d, false);
    let r = diagnose(&d, Some(&bin));
    assert!(r.warnings.is_empty(), "{}", render(&r));
    // As an older version (or an admin's editor) left it.
    std::fs::set_permissions(&cfg_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = diagnose(&d, Some(&bin));
    assert!(r.healthy(), "a warning, not a failure: {}", render(&r));
    let text = render(&r);
    assert!(text.contains("other local users can read it"), "{text}");
    assert!(
        text.contains(&format!("fix: chmod 0600 {}", cfg_path.display())),
        "{text}"
    );
}

#[test]
fn registry_policies_are_judged_like_policy_files() {
    // What `install::registry_policies` reads on Windows: the machine's key,
    // then the user's; an allow-list entry in either lifts a block.
    let machine = PathBuf::from(r"HKEY_LOCAL_MACHINE\Software\Policies\Google\Chrome");
    let user = PathBuf::from(r"HKEY_CURRENT_USER\Software\Policies\Google\Chrome");
    let blocked = evaluate_policies(vec![(
        machine.clone(),
        serde_json::json!({"NativeMessagingBlocklist": ["*"], "NativeMessagingUserLevelHosts": false}),
    )]);
    assert_eq!(blocked.blocked, Some(machine.clone()));
    assert_eq!(blocked.user_level_off, Some(machine.clone()));
    let allowed = evaluate_policies(vec![
        (
            machine,
            serde_json::json!({"NativeMessagingBlocklist": ["*"]}),
        ),
        (
            user,
            serde_json::json!({"NativeMessagingAllowlist": [HOST_NAME], "NativeMessagingUserLevelHosts": true}),
        ),
    ]);
    assert_eq!(allowed, HostPolicy::default());
}
