//! The feeds' side of the demonstration: the credentials a source system would hold (the
//! gateway sources' bearer tokens, an Open311 key of the demo's own) and the delivery of
//! each item to the server's own endpoints over real HTTP, as a source system delivers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cockpit_access::token_digest;
use cockpit_sim::{Feed, FeedItem};
use cockpit_store::AuditActor;
use serde_json::Value;

use super::DemoError;
use crate::cases::{CaseService, issue_source_token};

/// The Open311 application the demonstration reports as.
pub(crate) const APPLICATION: &str = "演示案件来源（模拟生成）";

/// Delivers feed items to the server at `base`.
pub struct Sender {
    client: reqwest::Client,
    base: String,
    hotline: Option<String>,
    grassroots: Option<String>,
    open311: String,
}

impl Sender {
    /// The credentials for every feed: each gateway source's token in force as kept in
    /// `data_home/source-tokens.txt` (the first start's, or one issued since), or a new one
    /// issued and kept there when none there is in force; a new Open311 key, the demo's
    /// earlier ones revoked.
    pub async fn new(cases: &CaseService, data_home: &Path, base: String) -> Result<Sender, DemoError> {
        let rules = cases.rules.get();
        let file = data_home.join("source-tokens.txt");
        let mut tokens = Vec::new();
        for source in [Feed::Hotline, Feed::Grassroots].map(Feed::source) {
            let gateway = rules.sources.get(source).is_some_and(|s| s.mapping.is_some());
            tokens.push(if gateway { Some(source_token(cases, &file, source).await?) } else { None });
        }
        let who = AuditActor { actor: "demo".into(), role: "system".into(), address: "127.0.0.1".into() };
        for key in cases.store.open311_keys().await? {
            if key.application == APPLICATION && key.revoked_at.is_none() {
                cases.store.revoke_open311_key(key.id, &who).await?;
            }
        }
        let open311 = cockpit_access::random_token().map_err(|e| DemoError::Credentials(e.to_string()))?;
        cases.store.create_open311_key(APPLICATION, &token_digest(&open311), &who).await?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(180))
            .build()
            .map_err(|e| DemoError::Credentials(e.to_string()))?;
        let mut tokens = tokens.into_iter();
        Ok(Sender { client, base, hotline: tokens.next().flatten(), grassroots: tokens.next().flatten(), open311 })
    }

    /// Delivers `item`: the case's id.
    pub async fn deliver(&self, item: &FeedItem) -> Result<i64, DemoError> {
        let request = match item.feed {
            Feed::Hotline | Feed::Grassroots => {
                let token = if item.feed == Feed::Hotline { &self.hotline } else { &self.grassroots };
                let token = token.as_ref().ok_or(DemoError::NoFeed(item.feed.source()))?;
                let url = format!("{}/api/intake/{}", self.base, item.feed.source());
                self.client.post(url).bearer_auth(token).json(&item.document)
            }
            Feed::Open311 => {
                let mut body = item.document.clone();
                if let Value::Object(fields) = &mut body {
                    fields.insert("api_key".into(), Value::from(self.open311.clone()));
                }
                self.client.post(format!("{}/open311/v2/requests.json", self.base)).json(&body)
            }
        };
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(DemoError::Refused {
                feed: item.feed.source(),
                status: status.as_u16(),
                body: body.to_string(),
            });
        }
        let id = match item.feed {
            Feed::Open311 => body[0]["service_request_id"].as_str().and_then(|id| id.parse().ok()),
            _ => body["id"].as_i64(),
        };
        id.ok_or_else(|| DemoError::Refused {
            feed: item.feed.source(),
            status: status.as_u16(),
            body: body.to_string(),
        })
    }
}

/// The token in force for `source`: the newest in `file` whose hash the database holds,
/// else a new one, issued and appended to `file` for the operator as the first start's are.
async fn source_token(cases: &CaseService, file: &PathBuf, source: &str) -> Result<String, DemoError> {
    let expected = cases.store.source_gate(source).await?.and_then(|(_, hash)| hash);
    let kept = std::fs::read_to_string(file).unwrap_or_default();
    let found = kept
        .lines()
        .rev()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(char::is_whitespace))
        .filter(|(id, _)| *id == source)
        .map(|(_, token)| token.trim())
        .find(|token| expected.as_deref() == Some(token_digest(token).as_str()));
    if let Some(token) = found {
        return Ok(token.to_string());
    }
    let who = AuditActor { actor: "demo".into(), role: "system".into(), address: "127.0.0.1".into() };
    let token = issue_source_token(&cases.store, &cases.rules.get(), source, &who)
        .await
        .map_err(|e| DemoError::Credentials(e.to_string()))?;
    let text = format!(
        "# A token issued for the demonstration's feeds ({}); the one before it stopped working.\n{:<24} {token}\n",
        chrono::Utc::now().to_rfc3339(),
        source
    );
    crate::auth::tell_operator(file, &text, true).map_err(|e| DemoError::Credentials(e.to_string()))?;
    Ok(token)
}
