//! Model-based property test (sled's `BTreeMap` model, TigerBeetle's
//! invariants): random operation sequences, many of them failing, run both on
//! the ledger and on a plain model; after every step the two agree on the
//! outcome and every balance, and the conservation laws hold. At the end the
//! journal verifies and a reopened ledger is identical.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use isthmus_ledger::{
    verify_journal, AccountRef, Asset, Effect, Ledger, LedgerFailure, LedgerReason, Operation,
    Request,
};
use isthmus_spec::ids::{Hex32, Preimage};
use isthmus_store::log::MemoryLogFiles;
use isthmus_store::ManualClock;
use proptest::prelude::*;

const ACCOUNTS: [&str; 4] = [
    "DEUTDEFF/A",
    "CHASUS33/B",
    "549300ISTHMUSSELL015/C",
    "MGTCBEBE/NEVER-OPENED",
];
const ASSETS: [&str; 2] = ["US0378331005", "JPY"];
const T0: u64 = 1_800_000_000_000;

#[derive(Debug, Clone)]
enum Step {
    Issue {
        account: usize,
        asset: usize,
        units: u64,
    },
    Transfer {
        from: usize,
        to: usize,
        asset: usize,
        units: u64,
    },
    Lock {
        from: usize,
        to: usize,
        asset: usize,
        units: u64,
        expiry_in_ms: u64,
    },
    Claim {
        lock: usize,
        right_secret: bool,
    },
    Refund {
        lock: usize,
    },
    Freeze {
        account: usize,
    },
    Unfreeze {
        account: usize,
    },
    Advance {
        ms: u64,
    },
    /// Moves time to a lock's expiry plus `offset_ms` (never backwards), to
    /// hit the boundary; the test follows it with a claim or a refund of that lock.
    ToExpiry {
        lock: usize,
        offset_ms: i64,
        then_claim: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let account = 0..ACCOUNTS.len();
    let asset = 0..ASSETS.len();
    prop_oneof![
        3 => (account.clone(), asset.clone(), 1u64..1000).prop_map(|(account, asset, units)| Step::Issue { account, asset, units }),
        3 => (account.clone(), account.clone(), asset.clone(), 1u64..600).prop_map(|(from, to, asset, units)| Step::Transfer { from, to, asset, units }),
        4 => (account.clone(), account.clone(), asset.clone(), 1u64..600, 1u64..100).prop_map(|(from, to, asset, units, expiry_in_ms)| Step::Lock { from, to, asset, units, expiry_in_ms }),
        4 => (0usize..8, any::<bool>()).prop_map(|(lock, right_secret)| Step::Claim { lock, right_secret }),
        3 => (0usize..8).prop_map(|lock| Step::Refund { lock }),
        1 => account.clone().prop_map(|account| Step::Freeze { account }),
        1 => account.prop_map(|account| Step::Unfreeze { account }),
        2 => (0u64..80).prop_map(|ms| Step::Advance { ms }),
        3 => (0usize..8, -1i64..=1, any::<bool>()).prop_map(|(lock, offset_ms, then_claim)| Step::ToExpiry { lock, offset_ms, then_claim }),
    ]
}

#[derive(Debug, Clone)]
struct ModelLock {
    from: usize,
    to: usize,
    asset: usize,
    units: u64,
    expiry_ms: u64,
    settled: bool,
}

/// The plain model: what the ledger should decide, written independently.
#[derive(Default)]
struct Model {
    open: [bool; 4],
    frozen: [bool; 4],
    /// (account, asset) -> (available, locked)
    balances: HashMap<(usize, usize), (u64, u64)>,
    locks: Vec<(u64, ModelLock)>,
    ends_per_lock: HashMap<u64, u32>,
}

impl Model {
    fn bal(&mut self, account: usize, asset: usize) -> &mut (u64, u64) {
        self.balances.entry((account, asset)).or_default()
    }

    fn pair(&self, from: usize, to: usize) -> Result<(), LedgerReason> {
        if from == to {
            return Err(LedgerReason::SameAccount);
        }
        if !self.open[from] || !self.open[to] {
            return Err(LedgerReason::AccountUnknown);
        }
        // A frozen account cannot send, but can receive.
        if self.frozen[from] {
            return Err(LedgerReason::AccountFrozen);
        }
        Ok(())
    }

    /// Predicts one step's outcome and applies it to the model if it succeeds.
    fn predict(&mut self, step: &Step, now_ms: u64, seq: u64) -> Result<(), LedgerReason> {
        match *step {
            Step::Issue {
                account,
                asset,
                units,
            } => {
                if !self.open[account] {
                    return Err(LedgerReason::AccountUnknown);
                }
                // Frozen accounts still receive issues.
                self.bal(account, asset).0 += units;
            }
            Step::Transfer {
                from,
                to,
                asset,
                units,
            } => {
                self.pair(from, to)?;
                if self.bal(from, asset).0 < units {
                    return Err(LedgerReason::InsufficientFunds);
                }
                self.bal(from, asset).0 -= units;
                self.bal(to, asset).0 += units;
            }
            Step::Lock {
                from,
                to,
                asset,
                units,
                expiry_in_ms,
            } => {
                self.pair(from, to)?;
                if self.bal(from, asset).0 < units {
                    return Err(LedgerReason::InsufficientFunds);
                }
                let balance = self.bal(from, asset);
                balance.0 -= units;
                balance.1 += units;
                self.locks.push((
                    seq,
                    ModelLock {
                        from,
                        to,
                        asset,
                        units,
                        expiry_ms: now_ms + expiry_in_ms,
                        settled: false,
                    },
                ));
            }
            Step::Claim { lock, .. } | Step::Refund { lock } if lock < self.locks.len() => {
                let (claim, right_secret) = match *step {
                    Step::Claim { right_secret, .. } => (true, right_secret),
                    _ => (false, false),
                };
                let (lock_id, entry) = self.locks[lock].clone();
                if entry.settled {
                    return Err(LedgerReason::LockSettled);
                }
                if claim && now_ms >= entry.expiry_ms {
                    return Err(LedgerReason::LockExpired);
                }
                if claim && !right_secret {
                    return Err(LedgerReason::PreimageMismatch);
                }
                if !claim && now_ms < entry.expiry_ms {
                    return Err(LedgerReason::LockNotExpired);
                }
                self.locks[lock].1.settled = true;
                *self.ends_per_lock.entry(lock_id).or_default() += 1;
                self.bal(entry.from, entry.asset).1 -= entry.units;
                let credited = if claim { entry.to } else { entry.from };
                self.bal(credited, entry.asset).0 += entry.units;
            }
            Step::Claim { .. } | Step::Refund { .. } => return Err(LedgerReason::LockUnknown),
            Step::Freeze { account } | Step::Unfreeze { account } => {
                let freeze = matches!(step, Step::Freeze { .. });
                if !self.open[account] {
                    return Err(LedgerReason::AccountUnknown);
                }
                if self.frozen[account] == freeze {
                    return Err(if freeze {
                        LedgerReason::AccountFrozen
                    } else {
                        LedgerReason::AccountNotFrozen
                    });
                }
                self.frozen[account] = freeze;
            }
            Step::Advance { .. } | Step::ToExpiry { .. } => {}
        }
        Ok(())
    }
}

fn secret() -> [u8; 32] {
    *Hex32::sha256_of(b"model secret").bytes()
}

fn account(index: usize) -> AccountRef {
    ACCOUNTS[index].parse().unwrap()
}

fn asset(index: usize) -> Asset {
    Asset::parse(ASSETS[index]).unwrap()
}

fn operation(step: &Step, model: &Model, now_ms: u64) -> Option<Operation> {
    Some(match *step {
        Step::Issue {
            account: a,
            asset: s,
            units,
        } => Operation::Issue {
            account: account(a),
            asset: asset(s),
            units,
        },
        Step::Transfer {
            from,
            to,
            asset: s,
            units,
        } => Operation::Transfer {
            from: account(from),
            to: account(to),
            asset: asset(s),
            units,
        },
        Step::Lock {
            from,
            to,
            asset: s,
            units,
            expiry_in_ms,
        } => Operation::Lock {
            from: account(from),
            beneficiary: account(to),
            asset: asset(s),
            units,
            hashlock: Preimage::from_bytes(secret()).hashlock(),
            expiry_ms: now_ms + expiry_in_ms,
        },
        Step::Claim { lock, right_secret } => Operation::Claim {
            lock_id: model.locks.get(lock).map_or(999_999, |(id, _)| *id),
            preimage: Preimage::from_bytes(if right_secret { secret() } else { [7; 32] }),
        },
        Step::Refund { lock } => Operation::Refund {
            lock_id: model.locks.get(lock).map_or(999_999, |(id, _)| *id),
        },
        Step::Freeze { account: a } => Operation::Freeze {
            account: account(a),
        },
        Step::Unfreeze { account: a } => Operation::Unfreeze {
            account: account(a),
        },
        Step::Advance { .. } | Step::ToExpiry { .. } => return None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn ledger_agrees_with_the_model(steps in proptest::collection::vec(step(), 1..80)) {
        let store = MemoryLogFiles::new();
        let clock = ManualClock::new(T0);
        let mut ledger = Ledger::open(store.clone(), Box::new(clock.clone())).unwrap();
        let mut model = Model::default();
        for index in 0..3 {
            ledger.execute(Request::new(format!("open-{index}"), Operation::OpenAccount { account: account(index) })).unwrap();
            model.open[index] = true;
        }
        let mut now_ms = T0;
        let steps: Vec<Step> = steps
            .into_iter()
            .flat_map(|step| match step {
                Step::ToExpiry { lock, then_claim, .. } => {
                    let then = if then_claim { Step::Claim { lock, right_secret: true } } else { Step::Refund { lock } };
                    vec![step, then]
                }
                other => vec![other],
            })
            .collect();
        for (index, step) in steps.iter().enumerate() {
            match *step {
                Step::Advance { ms } => {
                    now_ms += ms;
                    clock.set(now_ms);
                    continue;
                }
                Step::ToExpiry { lock, offset_ms, .. } => {
                    if let Some((_, entry)) = model.locks.get(lock) {
                        now_ms = now_ms.max(entry.expiry_ms.saturating_add_signed(offset_ms));
                        clock.set(now_ms);
                    }
                    continue;
                }
                _ => {}
            }
            let op = operation(step, &model, now_ms).unwrap();
            let seq = ledger.journal_len();
            let expected = model.predict(step, now_ms, seq);
            let result = ledger.execute(Request::new(format!("step-{index}"), op));
            // Every step is journaled, applied or refused.
            prop_assert_eq!(ledger.journal_len(), seq + 1);
            match (&expected, &result) {
                (Ok(()), Ok(receipt)) => {
                    prop_assert_eq!(receipt.seq, seq);
                    if let Step::Lock { .. } = step {
                        prop_assert_eq!(&receipt.effect, &Effect::Locked { lock_id: seq });
                    }
                }
                (Err(reason), Err(LedgerFailure::Refused { error, journaled: Some(position) })) => {
                    prop_assert_eq!(*reason, error.reason, "step {}: {:?}: {}", index, step, error);
                    prop_assert_eq!(position.seq, seq);
                }
                _ => prop_assert!(false, "step {}: {:?}: model says {:?}, ledger says {:?}", index, step, expected, result),
            }
            ledger.state().check_invariants().map_err(TestCaseError::fail)?;
            for (&(a, s), &(available, locked)) in &model.balances {
                let actual = ledger.state().balance_of(&account(a), &asset(s)).unwrap_or_default();
                prop_assert_eq!((actual.available, actual.locked), (available, locked), "balance of {} in {}", ACCOUNTS[a], ASSETS[s]);
            }
        }
        prop_assert!(model.ends_per_lock.values().all(|&ends| ends <= 1), "a lock ended twice");
        let report = verify_journal(ledger.log()).unwrap();
        prop_assert_eq!(report.first_problem, None);
        let reopened = Ledger::open(store, Box::new(ManualClock::new(T0))).unwrap();
        prop_assert_eq!(reopened.head_hash(), ledger.head_hash());
        for a in 0..3 {
            prop_assert_eq!(reopened.holdings(&account(a)).unwrap(), ledger.holdings(&account(a)).unwrap());
        }
    }
}
