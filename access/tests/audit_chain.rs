//! The audit chain end to end: a stored chain verifies, and every kind of tampering (an
//! altered field, an altered stored hash, a deleted record, two swapped records) is caught
//! at the right record.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use cockpit_access::{AuditRecord, ChainBreak, ChainVerifier, GENESIS, chain_hash};

/// A record as the database stores it: the record, its previous hash, its hash.
type Stored = (AuditRecord, String, String);

fn record(seq: i64) -> AuditRecord {
    AuditRecord {
        seq,
        at_micros: 1_750_000_000_000_000 + seq * 1_000_003,
        actor: format!("user{}", seq % 3),
        role: "dispatcher".to_owned(),
        address: format!("10.0.0.{seq}"),
        action: if seq % 2 == 0 { "case.dispatch" } else { "personal_data.unmask" }.to_owned(),
        object: format!("case:{}", 100 + seq),
        result: "ok".to_owned(),
        detail: format!(r#"{{"note":"记录 {seq}"}}"#),
    }
}

/// A correctly chained trail of `n` records.
fn chain(n: i64) -> Vec<Stored> {
    let mut prev = GENESIS.to_owned();
    (1..=n)
        .map(|seq| {
            let r = record(seq);
            let hash = chain_hash(&prev, &r);
            let stored = (r, prev.clone(), hash.clone());
            prev = hash;
            stored
        })
        .collect()
}

fn verify(stored: &[Stored]) -> Result<ChainVerifier, ChainBreak> {
    let mut v = ChainVerifier::new();
    for (r, prev, hash) in stored {
        v.push(r, prev, hash)?;
    }
    Ok(v)
}

fn breaks_at(stored: &[Stored], seq: i64) -> ChainBreak {
    let err = verify(stored).expect_err("tampering went unnoticed");
    assert_eq!(err.seq, seq, "{err}");
    err
}

#[test]
fn known_answer_hash() {
    // Computed independently in Python from the documented encoding.
    let r = AuditRecord {
        seq: 1,
        at_micros: 1_750_000_000_123_456,
        actor: "zhangsan".to_owned(),
        role: "dispatcher".to_owned(),
        address: "10.0.0.7".to_owned(),
        action: "personal_data.unmask".to_owned(),
        object: "case:42".to_owned(),
        result: "ok".to_owned(),
        detail: r#"{"field":"reporter_phone"}"#.to_owned(),
    };
    assert_eq!(chain_hash(GENESIS, &r), "81f8de6e41e97a0ecf56618d467a84900eaeb831c4915369dbdee148575110b8");
    assert_eq!(GENESIS.len(), 64);
    assert!(GENESIS.bytes().all(|b| b == b'0'));
}

#[test]
fn moving_bytes_between_fields_changes_the_hash() {
    let a = AuditRecord { actor: "ab".to_owned(), role: "c".to_owned(), ..record(1) };
    let b = AuditRecord { actor: "a".to_owned(), role: "bc".to_owned(), ..record(1) };
    assert_ne!(chain_hash(GENESIS, &a), chain_hash(GENESIS, &b));
    assert_ne!(chain_hash(GENESIS, &record(1)), chain_hash(&"1".repeat(64), &record(1)));
}

#[test]
fn an_untouched_chain_verifies() {
    let stored = chain(10);
    let v = verify(&stored).unwrap();
    assert_eq!(v.count(), 10);
    assert_eq!(v.last_seq(), 10);
    assert_eq!(v.last_hash(), stored[9].2);
}

#[test]
fn verification_resumes_from_a_checkpoint() {
    let stored = chain(10);
    let mut v = ChainVerifier::resume(6, stored[5].2.clone());
    for (r, prev, hash) in &stored[6..] {
        v.push(r, prev, hash).unwrap();
    }
    assert_eq!((v.count(), v.last_seq()), (4, 10));
    let mut wrong = ChainVerifier::resume(6, stored[4].2.clone());
    let (r, prev, hash) = &stored[6];
    assert_eq!(wrong.push(r, prev, hash).unwrap_err().seq, 7);
}

#[test]
fn altering_any_field_of_any_record_breaks_at_that_record() {
    // The seq is not among them: changing it is a gap or a reordering, tested below.
    let alterations: [fn(&mut AuditRecord); 8] = [
        |r| r.at_micros += 1,
        |r| r.actor.push('x'),
        |r| r.role = "commander".to_owned(),
        |r| r.address.push('0'),
        |r| r.action = "case.close".to_owned(),
        |r| r.object.push('9'),
        |r| r.result = "denied".to_owned(),
        |r| r.detail = r.detail.replace(' ', "  "),
    ];
    for at in 0..6 {
        for alter in alterations {
            let mut stored = chain(6);
            alter(&mut stored[at].0);
            let err = breaks_at(&stored, at as i64 + 1);
            assert!(err.reason.contains("altered"), "{err}");
        }
    }
}

#[test]
fn altering_a_stored_hash_breaks_there() {
    for at in 0..5 {
        let mut stored = chain(5);
        let first = if stored[at].2.starts_with('a') { "b" } else { "a" };
        stored[at].2.replace_range(0..1, first);
        let err = breaks_at(&stored, at as i64 + 1);
        assert!(err.reason.contains("stored hash"), "{err}");
    }
    // Rewriting a record and its hash consistently is caught by the next record.
    let mut stored = chain(5);
    stored[2].0.result = "denied".to_owned();
    stored[2].2 = chain_hash(&stored[2].1, &stored[2].0);
    let err = breaks_at(&stored, 4);
    assert!(err.reason.contains("previous hash"), "{err}");
}

#[test]
fn deleting_a_record_breaks_at_the_missing_seq() {
    for at in 0..6 {
        let mut stored = chain(6);
        stored.remove(at);
        if at == 5 {
            // Deleting the newest record leaves a shorter valid chain; the server compares
            // the count against its own record of the last seq.
            assert_eq!(verify(&stored).unwrap().last_seq(), 5);
            continue;
        }
        let err = breaks_at(&stored, at as i64 + 1);
        assert!(err.reason.contains("missing"), "{err}");
    }
    let mut stored = chain(6);
    stored.drain(1..4);
    let err = breaks_at(&stored, 2);
    assert!(err.reason.contains("records 2 to 4 are missing"), "{err}");
}

#[test]
fn swapping_two_records_breaks_at_the_first_of_them() {
    for at in 0..5 {
        let mut stored = chain(6);
        stored.swap(at, at + 1);
        let err = breaks_at(&stored, at as i64 + 1);
        assert!(err.reason.contains("missing") || err.reason.contains("out of order"), "{err}");
    }
    // Renumbering the swapped records to hide it still breaks on the hashes.
    let mut stored = chain(6);
    stored.swap(2, 3);
    stored[2].0.seq = 3;
    stored[3].0.seq = 4;
    breaks_at(&stored, 3);
}

#[test]
fn a_repeated_record_is_out_of_order_and_a_failed_push_changes_nothing() {
    let stored = chain(3);
    let mut v = ChainVerifier::new();
    v.push(&stored[0].0, &stored[0].1, &stored[0].2).unwrap();
    let err = v.push(&stored[0].0, &stored[0].1, &stored[0].2).unwrap_err();
    assert_eq!(err.seq, 2);
    assert!(err.reason.contains("out of order"), "{err}");
    assert_eq!(err.to_string(), format!("audit record 2: {}", err.reason));
    assert_eq!((v.count(), v.last_seq(), v.last_hash()), (1, 1, stored[0].2.as_str()));
    v.push(&stored[1].0, &stored[1].1, &stored[1].2).unwrap();
}
