//! Building a HubSpot client from the command line and environment, and `portal check`.
//!
//! This is the only place that turns flags and environment variables into client
//! settings; the client crate never reads the environment.

use std::process::ExitCode;

use anyhow::{Context, bail};
use futures::TryStreamExt;
use leadflow_core::{ObjectType, Secret};
use leadflow_hubspot::{Client, ClientConfig, Credentials, OAuthCredentials, RateLimits, Tier};

use crate::cli::PortalArgs;

/// Builds the client the flags describe (professional tier and UTC unless they say).
pub(crate) fn client(args: &PortalArgs) -> anyhow::Result<Client> {
    build(args, "professional", "UTC")
}

/// Builds the client for a project: `portal.tier` and `portal.time_zone` of `leadflow.yaml`
/// apply when neither the flag nor its environment variable gives them
/// (flag/env > leadflow.yaml > default).
pub(crate) fn client_for(
    args: &PortalArgs,
    settings: &leadflow_config::settings::Settings,
) -> anyhow::Result<Client> {
    let from = |given: bool, flag: &'static str| if given { flag } else { "leadflow.yaml" };
    tracing::info!(
        "portal tier {} ({}), daily budget resets in {} ({})",
        args.tier.as_deref().unwrap_or(&settings.tier),
        from(args.tier.is_some(), "--tier or LEADFLOW_HUBSPOT_TIER"),
        args.time_zone.as_deref().unwrap_or(&settings.time_zone),
        from(
            args.time_zone.is_some(),
            "--time-zone or LEADFLOW_HUBSPOT_TIME_ZONE"
        )
    );
    build(args, &settings.tier, &settings.time_zone)
}

fn build(args: &PortalArgs, tier: &str, time_zone: &str) -> anyhow::Result<Client> {
    let credentials = credentials(args)?;
    let tier: Tier = args
        .tier
        .as_deref()
        .unwrap_or(tier)
        .parse()
        .map_err(anyhow::Error::msg)?;
    let time_zone = args.time_zone.as_deref().unwrap_or(time_zone);
    let mut limits = RateLimits::for_tier(tier);
    limits.daily_reset_zone = jiff::tz::TimeZone::get(time_zone).with_context(|| {
        format!("time zone {time_zone:?} is not an IANA time zone such as Europe/Berlin")
    })?;
    let mut config = ClientConfig::new(args.hubspot_url.clone(), credentials);
    config.limits = limits;
    Ok(Client::new(config)?)
}

fn credentials(args: &PortalArgs) -> anyhow::Result<Credentials> {
    if let Some(client_id) = &args.oauth_client_id {
        let (Some(secret), Some(refresh)) = (&args.oauth_client_secret, &args.oauth_refresh_token)
        else {
            bail!(
                "OAuth needs LEADFLOW_HUBSPOT_CLIENT_SECRET and LEADFLOW_HUBSPOT_REFRESH_TOKEN as well as the client id"
            );
        };
        return Ok(Credentials::OAuth(OAuthCredentials::new(
            client_id.clone(),
            Secret::new(secret.clone()),
            Secret::new(refresh.clone()),
        )));
    }
    if let Some(token) = &args.token {
        return Ok(Credentials::Token(Secret::new(token.trim())));
    }
    if let Some(path) = &args.token_file {
        let token = std::fs::read_to_string(path)
            .with_context(|| format!("reading the token file {}", path.display()))?;
        let token = token.trim();
        if token.is_empty() {
            bail!("the token file {} is empty", path.display());
        }
        return Ok(Credentials::Token(Secret::new(token)));
    }
    bail!(
        "no HubSpot credentials: set LEADFLOW_HUBSPOT_TOKEN (a private app's access token) or LEADFLOW_HUBSPOT_TOKEN_FILE, \
         or OAuth with LEADFLOW_HUBSPOT_CLIENT_ID, LEADFLOW_HUBSPOT_CLIENT_SECRET and LEADFLOW_HUBSPOT_REFRESH_TOKEN"
    )
}

/// `leadflow portal check`: one read of each API leadflow uses.
pub(crate) async fn check(args: PortalArgs) -> anyhow::Result<ExitCode> {
    let client = client(&args)?;
    let owners: Vec<_> = client
        .owners()
        .try_collect()
        .await
        .context("reading owners")?;
    println!("connected to {}", client.base_url());
    println!("owners: {}", owners.len());
    let pipelines = client
        .pipelines(ObjectType::Deals)
        .await
        .context("reading deal pipelines")?;
    for p in &pipelines {
        println!(
            "deal pipeline {:?} ({}): {} stages",
            p.label,
            p.id,
            p.stages.len()
        );
    }
    let properties = client
        .properties(ObjectType::Contacts)
        .list(false)
        .await
        .context("reading contact properties")?;
    println!("contact properties: {}", properties.len());
    match owners.iter().find_map(|o| o.user_id) {
        Some(user_id) => {
            let sequences = client
                .sequences(&user_id.to_string())
                .await
                .context("reading sequences")?;
            println!("sequences visible to user {user_id}: {}", sequences.len());
            for s in &sequences {
                println!("  {}", s.name);
            }
        }
        None => println!("sequences: no owner with a user id, so none can be listed"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the secrets as `[redacted]`, as `leadflow_core::Secret` does: `Debug` output
/// reaches logs and panic messages.
impl std::fmt::Debug for PortalArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "[redacted]");
        f.debug_struct("PortalArgs")
            .field("hubspot_url", &self.hubspot_url)
            .field("token", &redacted(&self.token))
            .field("token_file", &self.token_file)
            .field("oauth_client_id", &self.oauth_client_id)
            .field("oauth_client_secret", &redacted(&self.oauth_client_secret))
            .field("oauth_refresh_token", &redacted(&self.oauth_refresh_token))
            .field("tier", &self.tier)
            .field("time_zone", &self.time_zone)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::Cli;

    #[test]
    fn debug_output_of_the_command_line_never_shows_a_secret() {
        let cli = Cli::try_parse_from([
            "leadflow",
            "portal",
            "check",
            "--hubspot-url",
            "http://127.0.0.1:9",
            "--token",
            "pat-na1-debug-secret",
            "--oauth-client-secret",
            "client-debug-secret",
            "--oauth-refresh-token",
            "refresh-debug-secret",
        ])
        .expect("the flags parse");
        let shown = format!("{cli:?}");
        for secret in ["debug-secret", "pat-na1"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(shown.matches("[redacted]").count(), 3, "{shown}");
        assert!(
            shown.contains("http://127.0.0.1:9"),
            "the rest is shown: {shown}"
        );
    }
}
