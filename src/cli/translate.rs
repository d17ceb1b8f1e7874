//! `isthmus translate`: one message from one dialect to another.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use isthmus_adapters::adapter::Dialect;
use isthmus_adapters::TranslateError;
use isthmus_spec::ids::{MessageId, NodeId};
use isthmus_spec::time::Timestamp;
use isthmus_spec::{Body, Envelope, ReasonCode, Rejection};
use ring::rand::{SecureRandom, SystemRandom};

use super::input::read_bounded;
use super::output::{stderr_line, Out};
use super::spec::load_keyring;
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
    /// Public key records to verify a signed ISM/1 input with.
    pub public_keys: Vec<PathBuf>,
    /// Translate a signed ISM/1 input without verifying its signature.
    pub unverified: bool,
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

/// What was established about the signature of an ISM/1 input.
enum Provenance {
    /// Not an envelope, or an unsigned one, and no key was asked for.
    Unsigned,
    /// A signed envelope whose signature verified with a given key.
    Verified(Envelope),
    /// A signed envelope translated unchecked, as --unverified asked.
    Unchecked(Envelope),
}

/// A signed ISM/1 envelope is translated only if its signature verifies with
/// a --public-key (checked as `spec validate` checks it, ISM-1 §7.3), or if
/// --unverified says to go on without checking: never silently, since the
/// translation drops the signature that would show a tampered body.
/// `Err` is the refusal's exit status.
fn check_signature(
    options: &Options,
    input: &[u8],
) -> anyhow::Result<Result<Provenance, ExitCode>> {
    let envelope = Envelope::decode(input).ok();
    if !options.public_keys.is_empty() {
        let keyring = load_keyring(&options.public_keys)?;
        let Some(envelope) = envelope else {
            return Ok(Err(refuse(&TranslateError::from(Rejection::at(
                ReasonCode::SignatureMissing,
                "signature",
                "--public-key needs a signed envelope, but the input is a bare {\"kind\", \"body\"}, which carries no signature",
            )))));
        };
        return Ok(match envelope.verify(&keyring) {
            Ok(()) => Ok(Provenance::Verified(envelope)),
            Err(rejection) => Err(refuse(&TranslateError::from(rejection))),
        });
    }
    match envelope {
        Some(envelope) if envelope.signature.is_some() => {
            if !options.unverified {
                let source = if options.file == Path::new("-") {
                    "standard input".to_string()
                } else {
                    options.file.display().to_string()
                };
                bail!(
                    "{source} is a signed ISM/1 envelope (message {}); pass --public-key FILE to verify its signature before translating it, or --unverified to translate it without checking",
                    envelope.id
                );
            }
            stderr_line(format_args!(
                "warning: the signature of message {} from {} was NOT checked (--unverified): its body may have been changed after signing",
                envelope.id, envelope.sender
            ));
            Ok(Ok(Provenance::Unchecked(envelope)))
        }
        _ => Ok(Ok(Provenance::Unsigned)),
    }
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
    if !matches!(options.from, DialectArg::Ism)
        && (!options.public_keys.is_empty() || options.unverified)
    {
        bail!("--public-key and --unverified apply to --from ism only: other dialects carry no ISM/1 signature");
    }
    let input = read_bounded(&options.file)?;
    let inbound = match dialect(options.from).inbound(&input) {
        Ok(translation) => translation,
        Err(error) => return Ok(refuse(&error)),
    };
    let provenance = if matches!(options.from, DialectArg::Ism) {
        match check_signature(&options, &input)? {
            Ok(provenance) => provenance,
            Err(refused) => return Ok(refused),
        }
    } else {
        Provenance::Unsigned
    };
    for derived in &inbound.derived {
        stderr_line(format_args!(
            "note: derived: {} from {}: {}",
            derived.field, derived.source, derived.reason
        ));
    }
    let rewrapped = matches!(
        (options.to, &options.sender, &options.receiver),
        (DialectArg::Ism, Some(_), Some(_))
    );
    let (signed, how) = match &provenance {
        Provenance::Unsigned => (None, ""),
        Provenance::Verified(envelope) => (Some(envelope), "verified"),
        Provenance::Unchecked(envelope) => (Some(envelope), "NOT checked"),
    };
    if let Some(envelope) = signed {
        if rewrapped {
            stderr_line(format_args!(
                "warning: the body of signed message {} from {} (signature {how}) is re-wrapped in a new unsigned envelope; the original signature is not carried",
                envelope.id, envelope.sender
            ));
        } else {
            stderr_line(format_args!(
                "note: message {} from {} was signed (signature {how}); the output does not carry the signature",
                envelope.id, envelope.sender
            ));
        }
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
