//! `isthmus translate`: one message from one dialect to another.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use isthmus_adapters::adapter::Dialect;
use isthmus_adapters::TranslateError;
use isthmus_spec::ids::{MessageId, NodeId};
use isthmus_spec::time::Timestamp;
use isthmus_spec::{Body, Envelope};
use ring::rand::{SecureRandom, SystemRandom};

use super::input::read_bounded;
use super::output::{stderr_line, Out};
use super::{DialectArg, EXIT_REJECTED};

/// Options of `isthmus translate`.
pub struct Options {
    /// Input dialect.
    pub from: DialectArg,
    /// Output dialect.
    pub to: DialectArg,
    /// Input file or `-`.
    pub file: PathBuf,
    /// Envelope sender, with `--to ism`.
    pub sender: Option<String>,
    /// Envelope receiver, with `--to ism`.
    pub receiver: Option<String>,
    /// Refuse lossy translations.
    pub strict: bool,
}

fn dialect(arg: DialectArg) -> Dialect {
    match arg {
        DialectArg::Iso20022 => Dialect::Iso20022,
        DialectArg::Mt => Dialect::Mt,
        DialectArg::Ism => Dialect::Ism,
    }
}

fn refuse(error: &TranslateError) -> ExitCode {
    let field = error.field.as_deref().unwrap_or("(message)");
    stderr_line(format_args!(
        "REJECTED {} at {field}: {}",
        error.code, error.message
    ));
    ExitCode::from(EXIT_REJECTED)
}

/// An unsigned envelope around `body`, with a fresh UUIDv7 and the current time.
fn envelope(body: Body, sender: &str, receiver: &str) -> anyhow::Result<Vec<u8>> {
    let sender = NodeId::parse(sender).map_err(|r| anyhow::anyhow!("--sender: {r}"))?;
    let receiver = NodeId::parse(receiver).map_err(|r| anyhow::anyhow!("--receiver: {r}"))?;
    let unix_millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_millis() as u64;
    let mut random = [0u8; 10];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
    let created_at =
        Timestamp::from_unix_millis(unix_millis).context("the system clock is beyond year 9999")?;
    let envelope = Envelope::new(
        MessageId::new_v7(unix_millis, random),
        sender,
        receiver,
        created_at,
        body,
    );
    // The envelope is checked like a received message, so a bad pair (e.g. sender = receiver) is reported.
    Envelope::from_value(&envelope.to_json()).map_err(|r| anyhow::anyhow!("{r}"))?;
    Ok(envelope.to_canonical_bytes())
}

/// `isthmus translate`.
pub fn run(options: Options) -> anyhow::Result<ExitCode> {
    let input = read_bounded(&options.file)?;
    let inbound = match dialect(options.from).inbound(&input) {
        Ok(translation) => translation,
        Err(error) => return Ok(refuse(&error)),
    };
    for derived in &inbound.derived {
        stderr_line(format_args!(
            "note: derived: {} from {}: {}",
            derived.field, derived.source, derived.reason
        ));
    }
    let (output, unrepresented) = match (options.to, &options.sender, &options.receiver) {
        (DialectArg::Ism, Some(sender), Some(receiver)) => (
            envelope(inbound.value, sender, receiver)?,
            inbound.unrepresented,
        ),
        (to, _, _) => match dialect(to).outbound(&inbound.value) {
            Ok(translation) => {
                let mut lost = inbound.unrepresented;
                lost.extend(translation.unrepresented);
                (translation.value, lost)
            }
            Err(error) => return Ok(refuse(&error)),
        },
    };
    for lost in &unrepresented {
        stderr_line(format_args!(
            "{} {}: {}",
            if options.strict {
                "REJECTED NOT_REPRESENTABLE at"
            } else {
                "warning: not carried:"
            },
            lost.field,
            lost.reason
        ));
    }
    if options.strict && !unrepresented.is_empty() {
        return Ok(ExitCode::from(EXIT_REJECTED));
    }
    let mut out = Out::new();
    out.bytes(&output)?;
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}
