//! `properties plan` and `properties apply` through the binary: exit 2 and nothing written
//! on a conflict or a missing scope, and where the portal's tier and time zone come from.

use leadflow_sandbox::{Sandbox, SandboxConfig, SandboxHandle, TokenGrant};

use super::{portal, run, strings, text};

/// The token introspection is a POST that reads.
const TOKEN_INFO: &str = "/oauth/v2/private-apps/get/access-token-info";

fn writes(sb: &SandboxHandle) -> Vec<String> {
    sb.state()
        .traffic()
        .iter()
        .filter(|x| x.method != "GET" && x.path != TOKEN_INFO)
        .map(|x| format!("{} {}", x.method, x.path))
        .collect()
}

/// A project written by `init`, with `from` replaced by `to` in `file`.
async fn project(file: &str, from: &str, to: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    assert!(run(strings(&["init", &d]), vec![]).await.status.success());
    let path = dir.path().join(file);
    let original = std::fs::read_to_string(&path).unwrap();
    assert!(original.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, original.replacen(from, to, 1)).unwrap();
    (dir, d)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_apply_exit_two_on_a_conflict_and_write_nothing() {
    let sb = Sandbox::spawn(SandboxConfig {
        record_traffic: true,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    // The portal's Lead Source is a dropdown; this configuration says it is text.
    let (_dir, d) = project(
        "properties.yaml",
        "    type: \"dropdown\"\n    options: [\"Inbound\", \"Outbound\"]\n    existing: true",
        "    type: \"text\"\n    existing: true",
    )
    .await;
    let env = portal(&sb, "pat-na1-test");

    let o = run(
        strings(&["properties", "plan", "--config", &d]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("CONFLICT"), "{out}");
    assert!(
        out.contains("blocked: conflict: the portal has lead_source as enumeration/select"),
        "{out}"
    );

    let o = run(
        strings(&["properties", "plan", "--config", &d, "--json"]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let lead_source = plan["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "lead_source")
        .unwrap();
    assert_eq!(lead_source["action"], "conflict");

    let o = run(
        strings(&["properties", "apply", "--config", &d, "--yes"]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Nothing was applied."), "{}", text(&o));
    assert_eq!(writes(&sb), Vec::<String>::new());
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_apply_exit_two_on_a_missing_scope_and_write_nothing() {
    let scopes = [
        "crm.objects.contacts.read",
        "crm.objects.deals.read",
        "crm.objects.owners.read",
        "automation.sequences.read",
        "crm.schemas.contacts.write",
    ];
    let sb = Sandbox::spawn(SandboxConfig {
        record_traffic: true,
        tokens: vec![TokenGrant {
            token: "pat-na1-contacts-only".into(),
            scopes: Some(scopes.map(String::from).to_vec()),
        }],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    assert!(run(strings(&["init", &d]), vec![]).await.status.success());
    let env = portal(&sb, "pat-na1-contacts-only");

    let o = run(
        strings(&["properties", "plan", "--config", &d]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("blocked: missing scope crm.schemas.deals.write"),
        "{out}"
    );
    assert!(
        !out.contains("missing scope crm.schemas.contacts.write"),
        "{out}"
    );

    let o = run(
        strings(&["properties", "apply", "--config", &d, "--yes"]),
        env.clone(),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Nothing was applied."), "{}", text(&o));
    assert_eq!(
        writes(&sb),
        Vec::<String>::new(),
        "no contact property is created before the deal write fails"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_and_time_zone_come_from_flags_then_environment_then_leadflow_yaml() {
    let sb = Sandbox::spawn(SandboxConfig::default()).await.unwrap();
    let (_dir, d) = project(
        "leadflow.yaml",
        "  tier: \"professional\"\n",
        "  tier: \"starter\"\n",
    )
    .await;
    let yaml = std::path::Path::new(&d).join("leadflow.yaml");
    let text_now = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(
        &yaml,
        text_now.replacen("time_zone: \"UTC\"", "time_zone: \"Europe/Berlin\"", 1),
    )
    .unwrap();
    let env = portal(&sb, "t");
    let plan = |extra: &[&str]| {
        let mut args = strings(&["properties", "plan", "--config", &d]);
        args.extend(strings(extra));
        args
    };

    let o = run(plan(&[]), env.clone()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("portal tier starter (leadflow.yaml), daily budget resets in Europe/Berlin (leadflow.yaml)"),
        "{out}"
    );

    let o = run(plan(&["--tier", "enterprise"]), env.clone()).await;
    let out = text(&o);
    assert!(
        out.contains("portal tier enterprise (--tier or LEADFLOW_HUBSPOT_TIER), daily budget resets in Europe/Berlin (leadflow.yaml)"),
        "{out}"
    );

    let mut with_env = env.clone();
    with_env.push((
        "LEADFLOW_HUBSPOT_TIME_ZONE".into(),
        "America/New_York".into(),
    ));
    let o = run(plan(&[]), with_env).await;
    let out = text(&o);
    assert!(
        out.contains("portal tier starter (leadflow.yaml), daily budget resets in America/New_York (--time-zone or LEADFLOW_HUBSPOT_TIME_ZONE)"),
        "{out}"
    );

    let o = run(strings(&["properties", "plan", "--help"]), vec![]).await;
    assert!(
        text(&o).contains("else portal.tier and portal.time_zone in leadflow.yaml"),
        "{}",
        text(&o)
    );
    sb.shutdown().await;
}
