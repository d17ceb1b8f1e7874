//! The participant API of a gateway (HTTP, loopback by default).
//!
//! - `POST /v1/instructions`: a settlement instruction as ISM/1 JSON
//!   (`Content-Type: application/json`), ISO 20022 sese.023
//!   (`application/xml`) or MT540–MT543 (`text/plain`), the latter two read
//!   by the market's adapter and completed with what the gateway knows;
//!   `202` once the gateway has it durably, with its id.
//! - `GET /v1/instructions/{id}`: its status and every status advice and
//!   confirmation so far, as ISM/1 JSON bodies.
//! - `GET /v1/settlements/{id}`: the proposal and this gateway's legs with
//!   their phases, for a participant of the settlement;
//! - `GET /v1/accounts/{account}/holdings`: the account's holdings on this
//!   market's ledger (the account id's `/` written `%2F`), as JSON, or as a
//!   statement of holdings by `Accept`: `application/xml` semt.002,
//!   `text/plain` MT535 (securities accounts only: `406` for cash).
//!
//! - `POST /v1/operator/{accounts|issue|freeze|unfreeze}`: the operator's
//!   ledger operations (`{"key", "account", "asset", "amount"}`).
//!
//! - `GET /v1/events[?dialect=ism|iso20022|mt]`: Server-Sent Events, the
//!   participant's status advices and confirmations in its dialect;
//! - `GET /healthz` and `GET /metrics` (Prometheus text: instructions by
//!   status, legs by phase, transport refusals by reason code, connections),
//!   without a token: they hold no participant's data.
//!
//! Every other request carries `Authorization: Bearer <token>`; the gateway keeps
//! only each token's SHA-256. A participant instructs only for accounts it
//! owns (every account the instruction names) and reads only those; the
//! operator's token is for operator endpoints. Every refusal is an RFC 9457
//! problem document with a reason code and a sentence.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use isthmus_adapters::adapter::Dialect;
use isthmus_adapters::context::InboundContext;
use isthmus_ledger::operation::Operation;
use isthmus_spec::body::{Body, SettlementInstruction};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::{NodeId, Reference};
use isthmus_spec::json::Json;
use serde_json::{json, Value};

use crate::config::{ApiSetup, Participant};
use crate::gateway::{GatewayHandle, Stopped, Submitted};
use crate::metrics::Exposition;

/// The largest request body read, bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

struct Api {
    gateway: GatewayHandle,
    setup: ApiSetup,
    relay: NodeId,
    market: Mic,
}

/// A refusal as an RFC 9457 problem document.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    code: &'static str,
    detail: String,
}

impl Problem {
    fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            code,
            detail: detail.into(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = json!({
            "type": format!("https://isthmus.example/problems/{}", self.code.to_lowercase()),
            "title": self.status.canonical_reason().unwrap_or("refused"),
            "status": self.status.as_u16(),
            "detail": self.detail,
            "reason_code": self.code,
        });
        (
            self.status,
            [("content-type", "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// The gateway's engine has stopped: the request can be repeated once it is back.
impl From<Stopped> for Problem {
    fn from(stopped: Stopped) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "GATEWAY_STOPPED",
            stopped.to_string(),
        )
    }
}

enum Caller<'a> {
    Participant(&'a Participant),
    Operator,
}

impl Api {
    fn caller(&self, headers: &HeaderMap) -> Result<Caller<'_>, Problem> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHENTICATED",
                    "send Authorization: Bearer <token>",
                )
            })?;
        let digest = ring::digest::digest(&ring::digest::SHA256, token.trim().as_bytes());
        let hash: &[u8] = digest.as_ref();
        if hash == self.setup.operator_token_sha256 {
            return Ok(Caller::Operator);
        }
        self.setup
            .participants
            .iter()
            .find(|p| hash == p.token_sha256)
            .map(Caller::Participant)
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHENTICATED",
                    "this token is not known here",
                )
            })
    }

    fn participant(&self, headers: &HeaderMap) -> Result<&Participant, Problem> {
        match self.caller(headers)? {
            Caller::Participant(participant) => Ok(participant),
            Caller::Operator => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "PARTICIPANT_ONLY",
                "the operator's token does not instruct or read participants' accounts",
            )),
        }
    }
}

/// Every ledger account an instruction names, as `owner/account`.
pub fn accounts_named(instruction: &SettlementInstruction) -> Vec<Option<String>> {
    let securities = instruction
        .account_owner
        .as_ref()
        .map(|owner| format!("{owner}/{}", instruction.safekeeping_account));
    let mut named = vec![securities];
    if let Some(cash) = &instruction.cash {
        if let Some(account) = &cash.account {
            // The cash account's owner is the account owner unless the cash side names another.
            let owner = cash.owner.as_ref().or(instruction.account_owner.as_ref());
            named.push(owner.map(|owner| format!("{owner}/{account}")));
        }
    }
    named
}

fn owns(participant: &Participant, instruction: &SettlementInstruction) -> Result<(), Problem> {
    for account in accounts_named(instruction) {
        match account {
            Some(account) if participant.accounts.contains(&account) => {}
            Some(account) => {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "ACCOUNT_FORBIDDEN",
                    format!("{} may not instruct for account {account}", participant.name),
                ))
            }
            None => {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "ACCOUNT_OWNER_MISSING",
                    "the instruction names an account without its owner, so whose it is cannot be checked",
                ))
            }
        }
    }
    Ok(())
}

async fn submit(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let participant = api.participant(&headers)?;
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    let instruction = match media {
        "application/json" => {
            let value = isthmus_spec::jcs::parse_strict(&body, isthmus_spec::limits::MAX_NESTING_DEPTH)
                .map_err(|r| Problem::new(StatusCode::BAD_REQUEST, r.code.as_str(), r.to_string()))?;
            SettlementInstruction::from_json(&value, "body")
                .map_err(|r| Problem::new(StatusCode::BAD_REQUEST, r.code.as_str(), r.to_string()))?
        }
        "application/xml" | "text/xml" => translated(Dialect::Iso20022, &body, &api.market)?,
        "application/x-swift-mt" | "text/plain" => translated(Dialect::Mt, &body, &api.market)?,
        other => {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "MEDIA_TYPE_UNSUPPORTED",
                format!("{other:?} is not taken here; send application/json (ISM/1), application/xml (ISO 20022 sese.023) or text/plain (MT540-MT543)"),
            ))
        }
    };
    owns(participant, &instruction)?;
    let id = instruction.instruction_id.clone();
    // An instruction id is used once (ISM-1 §12.4): the same instruction
    // again is answered as before, another under its id refused.
    match api.gateway.submit(instruction, api.relay.clone()).await? {
        Submitted::Accepted => {}
        Submitted::Repeated => {
            return Ok((
                StatusCode::OK,
                [("content-type", "application/json")],
                json!({ "instruction_id": id.as_str(), "accepted": true, "repeated": true })
                    .to_string(),
            )
                .into_response())
        }
        Submitted::IdReused => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "INSTRUCTION_ID_REUSED",
                format!("instruction {id} was accepted before with other content; a new instruction needs a new id"),
            ))
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        [("content-type", "application/json")],
        json!({ "instruction_id": id.as_str(), "accepted": true }).to_string(),
    )
        .into_response())
}

/// A native instruction read by the market's adapter and completed with
/// what the gateway knows (ISM-1 §6.1 duty 8).
fn translated(
    dialect: Dialect,
    native: &[u8],
    market: &Mic,
) -> Result<SettlementInstruction, Problem> {
    let context = InboundContext {
        market: Some(market.clone()),
        ..InboundContext::default()
    };
    let translation = dialect
        .inbound_with(native, &context)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.code.as_str(), e.to_string()))?;
    match translation.value {
        Body::SettlementInstruction(instruction) => Ok(instruction),
        other => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "KIND_UNEXPECTED",
            format!(
                "the message is a {}, not a settlement instruction",
                other.kind()
            ),
        )),
    }
}

async fn instruction(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let participant = api.participant(&headers)?;
    let reference = Reference::parse(&id)
        .map_err(|r| Problem::new(StatusCode::BAD_REQUEST, r.code.as_str(), r.to_string()))?;
    let view = api.gateway.instruction(&reference).await?;
    // Another's instruction is as unknown as a missing one: nothing leaks.
    let Some(view) = view.filter(|v| owns(participant, &v.instruction).is_ok()) else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "INSTRUCTION_UNKNOWN",
            format!("no instruction {id} of yours here"),
        ));
    };
    let notices: Vec<Value> = view
        .notices
        .iter()
        .map(|b| json!({ "kind": b.kind().as_str(), "body": b.to_json() }))
        .collect();
    Ok((
        StatusCode::OK,
        [("content-type", "application/json")],
        json!({
            "instruction_id": id,
            "status": view.status,
            "final": view.final_word,
            "notices": notices,
        })
        .to_string(),
    )
        .into_response())
}

async fn holdings(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(account): Path<String>,
) -> Result<Response, Problem> {
    let participant = api.participant(&headers)?;
    if !participant.accounts.contains(&account) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "ACCOUNT_FORBIDDEN",
            format!("{} may not read account {account}", participant.name),
        ));
    }
    let parsed = isthmus_ledger::parse_account(&account)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "ACCOUNT_ID_INVALID", e.to_string()))?;
    let holdings = api
        .gateway
        .holdings(&parsed)
        .await?
        .map_err(|f| Problem::new(StatusCode::NOT_FOUND, f.reason().as_str(), f.to_string()))?;
    if let Some(dialect) = statement_dialect(&headers) {
        return holdings_statement(&api.market, &parsed, &holdings, dialect);
    }
    let rows: Vec<Value> = holdings
        .iter()
        .map(|(asset, holding)| {
            json!({
                "asset": asset.to_string(),
                "available": asset.format_units(holding.available),
                "locked": asset.format_units(holding.locked),
                // The same in the asset's integer units (cents, millionths of a share), as strings.
                "available_units": holding.available.to_string(),
                "locked_units": holding.locked.to_string(),
            })
        })
        .collect();
    Ok((
        StatusCode::OK,
        [("content-type", "application/json")],
        json!({ "account": account, "holdings": rows }).to_string(),
    )
        .into_response())
}

/// The dialect of a statement of holdings the request's `Accept` asks for:
/// `application/xml` (or `text/xml`) semt.002, `text/plain` MT535; `None`
/// for JSON (`application/json`, `*/*`, or no `Accept`).
fn statement_dialect(headers: &HeaderMap) -> Option<Dialect> {
    let accept = headers.get("accept").and_then(|v| v.to_str().ok())?;
    accept
        .split(',')
        .map(|media| media.split(';').next().unwrap_or("").trim())
        .find_map(|media| match media {
            "application/xml" | "text/xml" => Some(Dialect::Iso20022),
            "text/plain" => Some(Dialect::Mt),
            _ => None,
        })
}

/// The holdings as a statement of holdings (ISM-1 §6.9) in `dialect`: semt.002
/// or MT535, as of now, its id `HLD` and 13 hex digits of the SHA-256 of the
/// account and the instant (16 characters, which MT's `:20C::SEME//` holds).
fn holdings_statement(
    market: &Mic,
    account: &isthmus_spec::body::AccountRef,
    holdings: &[(isthmus_ledger::Asset, isthmus_ledger::state::Holding)],
    dialect: Dialect,
) -> Result<Response, Problem> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let internal = |what: String| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", what);
    let not_representable = |why: String| {
        Problem::new(
            StatusCode::NOT_ACCEPTABLE,
            "STATEMENT_NOT_REPRESENTABLE",
            why,
        )
    };
    let as_of = isthmus_spec::time::Timestamp::from_unix_millis(now_ms).ok_or_else(|| {
        internal(format!(
            "the clock reads {now_ms} ms, not a time ISM/1 can write"
        ))
    })?;
    let digest = isthmus_spec::ids::Hex32::sha256_of(format!("{account}\n{as_of}").as_bytes());
    let id: String = digest.as_str().chars().take(13).collect();
    let statement_id = Reference::parse(&format!("HLD{}", id.to_uppercase()))
        .map_err(|e| internal(format!("statement id: {e}")))?;
    let statement = isthmus_adapters::statement::holdings_statement(
        statement_id,
        market.clone(),
        account.clone(),
        as_of,
        holdings,
    )
    .map_err(|e| not_representable(e.to_string()))?;
    let written = dialect
        .outbound(&Body::HoldingsStatement(statement))
        .map_err(|e| not_representable(e.to_string()))?;
    let content_type = match dialect {
        Dialect::Iso20022 => "application/xml",
        Dialect::Mt => "text/plain",
        Dialect::Ism => "application/json",
    };
    Ok((
        StatusCode::OK,
        [("content-type", content_type)],
        written.value,
    )
        .into_response())
}

impl Api {
    fn operator(&self, headers: &HeaderMap) -> Result<(), Problem> {
        match self.caller(headers)? {
            Caller::Operator => Ok(()),
            Caller::Participant(participant) => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "OPERATOR_ONLY",
                format!(
                    "{} is a participant; operator endpoints need the operator's token",
                    participant.name
                ),
            )),
        }
    }
}

fn member<'a>(value: &'a Value, name: &str) -> Result<&'a str, Problem> {
    value.get(name).and_then(Value::as_str).ok_or_else(|| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "MISSING_FIELD",
            format!("the request needs a string member {name:?}"),
        )
    })
}

/// `POST /v1/operator/{action}`: `accounts` (open), `issue`, `freeze`,
/// `unfreeze`, each with `key` (its idempotency key) and `account`, and for
/// `issue` `asset` and `amount` (a decimal string).
async fn operate(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(action): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    api.operator(&headers)?;
    let value = isthmus_spec::jcs::parse_strict(&body, isthmus_spec::limits::MAX_NESTING_DEPTH)
        .map_err(|r| Problem::new(StatusCode::BAD_REQUEST, r.code.as_str(), r.to_string()))?;
    let key = member(&value, "key")?.to_string();
    let account = member(&value, "account")?;
    let invalid = |e: isthmus_ledger::LedgerError| {
        Problem::new(StatusCode::BAD_REQUEST, e.reason.as_str(), e.to_string())
    };
    let operation = match action.as_str() {
        "accounts" => Operation::open_account(account).map_err(invalid)?,
        "issue" => Operation::issue(account, member(&value, "asset")?, member(&value, "amount")?)
            .map_err(invalid)?,
        "freeze" | "unfreeze" => {
            let account = isthmus_ledger::parse_account(account).map_err(invalid)?;
            if action == "freeze" {
                Operation::Freeze { account }
            } else {
                Operation::Unfreeze { account }
            }
        }
        other => {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "OPERATION_UNKNOWN",
                format!(
                "{other:?} is not an operator endpoint; use accounts, issue, freeze or unfreeze"
            ),
            ))
        }
    };
    api.gateway
        .operate(key, operation)
        .await?
        .map_err(|f| Problem::new(StatusCode::CONFLICT, f.reason().as_str(), f.to_string()))?;
    Ok((
        StatusCode::OK,
        [("content-type", "application/json")],
        json!({ "done": action }).to_string(),
    )
        .into_response())
}

/// `GET /v1/settlements/{id}`: the relay's proposal and the legs this
/// gateway holds with their phases, for a participant one of whose
/// instructions is in it (any other gets 404, as for a missing one).
async fn settlement(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let participant = api.participant(&headers)?;
    let reference = Reference::parse(&id)
        .map_err(|r| Problem::new(StatusCode::BAD_REQUEST, r.code.as_str(), r.to_string()))?;
    let view = api.gateway.settlement(&reference).await?;
    let Some(view) = view.filter(|v| v.instructions.iter().any(|i| owns(participant, i).is_ok()))
    else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "SETTLEMENT_UNKNOWN",
            format!("no settlement {id} of yours here"),
        ));
    };
    let legs: Vec<Value> = view
        .legs
        .iter()
        .map(|(leg, phase)| json!({ "leg": leg, "phase": phase }))
        .collect();
    Ok((
        StatusCode::OK,
        [("content-type", "application/json")],
        json!({
            "settlement_id": id,
            "proposal": view.proposal.to_json(),
            "legs": legs,
            "final": view.final_word,
        })
        .to_string(),
    )
        .into_response())
}

/// How often the event stream looks for new notices, milliseconds.
const EVENTS_POLL_MS: u64 = 200;

/// `GET /v1/events[?dialect=ism|iso20022|mt]`: Server-Sent Events, one per
/// status advice or confirmation of the participant's instructions, in the
/// dialect asked (ISM/1 JSON by default; ISO 20022 sese.024/sese.025 or
/// MT548/MT544–MT547). Each event's `id` is `instruction_id/index`; a stream
/// (re)opened sends every notice from the start, so a client that
/// reconnects skips the ids it has.
async fn events(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<std::collections::BTreeMap<String, String>>,
) -> Result<Response, Problem> {
    let participant = api.participant(&headers)?.clone();
    let dialect = match query.get("dialect").map(String::as_str) {
        None | Some("ism") => Dialect::Ism,
        Some("iso20022") => Dialect::Iso20022,
        Some("mt") => Dialect::Mt,
        Some(other) => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "DIALECT_UNKNOWN",
                format!("{other:?} is not a dialect; use ism, iso20022 or mt"),
            ))
        }
    };
    struct Cursor {
        api: Arc<Api>,
        participant: Participant,
        sent: std::collections::BTreeSet<(String, usize)>,
        ready: std::collections::VecDeque<axum::response::sse::Event>,
    }
    let cursor = Cursor {
        api: api.clone(),
        participant,
        sent: std::collections::BTreeSet::new(),
        ready: std::collections::VecDeque::new(),
    };
    let stream = futures_util::stream::unfold(cursor, move |mut cursor| async move {
        loop {
            if let Some(event) = cursor.ready.pop_front() {
                return Some((Ok::<_, std::convert::Infallible>(event), cursor));
            }
            // The engine stopped: the stream ends, and the client reconnects later.
            let all = cursor.api.gateway.notices().await.ok()?;
            for (instruction, notices) in all {
                if owns(&cursor.participant, &instruction).is_err() {
                    continue;
                }
                for (index, body) in notices.iter().enumerate() {
                    let key = (instruction.instruction_id.as_str().to_string(), index);
                    if cursor.sent.contains(&key) {
                        continue;
                    }
                    let data = match dialect.outbound(body) {
                        Ok(translation) => {
                            String::from_utf8_lossy(&translation.value).replace("\r\n", "\n")
                        }
                        Err(error) => {
                            json!({ "untranslatable": error.to_string(), "ism": body.to_json() })
                                .to_string()
                        }
                    };
                    cursor.ready.push_back(
                        axum::response::sse::Event::default()
                            .id(format!("{}/{index}", key.0))
                            .event(body.kind().as_str())
                            .data(data),
                    );
                    cursor.sent.insert(key);
                }
            }
            if cursor.ready.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(EVENTS_POLL_MS)).await;
            }
        }
    });
    Ok(axum::response::sse::Sse::new(stream)
        .keep_alive(axum::response::sse::KeepAlive::default())
        .into_response())
}

/// `GET /healthz`: 200 while the engine answers, 503 once it has stopped.
async fn healthz(State(api): State<Arc<Api>>) -> Result<Response, Problem> {
    api.gateway.stats().await?;
    Ok((
        StatusCode::OK,
        [("content-type", "application/json")],
        json!({ "status": "ok" }).to_string(),
    )
        .into_response())
}

/// `GET /metrics`: Prometheus text exposition of the gateway's counts (no
/// participant data: instruction and leg counts, the latency from an
/// instruction taken to its final word, refusals by reason code, connections).
async fn metrics(State(api): State<Arc<Api>>) -> Result<Response, Problem> {
    let stats = api.gateway.stats().await?;
    let mut page = Exposition::new();
    page.counts(
        "isthmus_instructions",
        "gauge",
        "Participants' instructions by the relay's last status.",
        "status",
        &stats.instructions,
    );
    page.counts(
        "isthmus_legs",
        "gauge",
        "Settlement legs this gateway holds, by phase.",
        "phase",
        &stats.legs,
    );
    page.histogram(
        "isthmus_instruction_final_seconds",
        "From an instruction taken (202) to the relay's final word on it (confirmation or cancellation), instructions taken since start.",
        &stats.latency,
    );
    write_transport_metrics(&mut page, &api.gateway.transport_counts());
    Ok(prometheus(page))
}

fn prometheus(page: Exposition) -> Response {
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        page.finish(),
    )
        .into_response()
}

/// The transport's part of `/metrics`, for relays and gateways alike.
pub fn write_transport_metrics(
    page: &mut Exposition,
    transport: &isthmus_transport::endpoint::TransportCounts,
) {
    page.counts(
        "isthmus_refusals_total",
        "counter",
        "Requests refused on the transport, by reason code.",
        "code",
        &transport.refused,
    );
    page.family(
        "isthmus_requests_total",
        "counter",
        "Requests that passed the receiver duties.",
    );
    page.sample("isthmus_requests_total", &[], transport.handed_over);
    page.family("isthmus_connections", "gauge", "Open QUIC connections.");
    page.sample("isthmus_connections", &[], transport.open_connections);
}

/// A relay's `/metrics` and `/healthz` (Prometheus text: settlements by
/// phase, settled, aborted and refused since start, and the transport's counts).
pub fn relay_router(relay: crate::relay::RelayHandle) -> Router {
    async fn health(State(relay): State<crate::relay::RelayHandle>) -> Response {
        match relay.counts().await {
            Some(_) => (
                StatusCode::OK,
                [("content-type", "application/json")],
                json!({ "status": "ok" }).to_string(),
            )
                .into_response(),
            None => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "RELAY_STOPPED",
                "the relay's engine has stopped",
            )
            .into_response(),
        }
    }
    async fn relay_metrics(State(relay): State<crate::relay::RelayHandle>) -> Response {
        let Some(counts) = relay.counts().await else {
            return Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "RELAY_STOPPED",
                "the relay's engine has stopped",
            )
            .into_response();
        };
        let mut page = Exposition::new();
        page.counts(
            "isthmus_settlements",
            "gauge",
            "Settlements at this relay by phase.",
            "phase",
            &counts.settlements,
        );
        let name = "isthmus_settlements_final_total";
        page.family(
            name,
            "counter",
            "Settlements that ended since start, by outcome.",
        );
        page.sample(name, &[("outcome", "SETTLED")], counts.stats.settled);
        page.sample(name, &[("outcome", "ABORTED")], counts.stats.aborted);
        page.histogram(
            "isthmus_settlement_seconds",
            "From the match to the last claim, for the settled settlements the relay holds.",
            &counts.latency,
        );
        let name = "isthmus_engine_refusals_total";
        page.family(
            name,
            "counter",
            "Messages the relay's engine refused since start.",
        );
        page.sample(name, &[], counts.stats.refused);
        write_transport_metrics(&mut page, &relay.transport_counts());
        prometheus(page)
    }
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(relay_metrics))
        .with_state(relay)
}

/// The API's routes over the gateway of `market`, instructing `relay`.
pub fn router(gateway: GatewayHandle, setup: ApiSetup, relay: NodeId, market: Mic) -> Router {
    let api = Arc::new(Api {
        gateway,
        setup,
        relay,
        market,
    });
    Router::new()
        .route("/v1/instructions", post(submit))
        .route("/v1/instructions/{id}", get(instruction))
        .route("/v1/accounts/{account}/holdings", get(holdings))
        .route("/v1/operator/{action}", post(operate))
        .route("/v1/settlements/{id}", get(settlement))
        .route("/v1/events", get(events))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(api)
}
