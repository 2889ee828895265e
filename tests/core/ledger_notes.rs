//! Signed notes and checkpoints: the C2SP spec example, the signed-note
//! negative table (audit-anchors §6 F) and the checkpoint negatives (§6 G).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ed25519_dalek::SigningKey;
use tollgate::encoding;
use tollgate::keys::Signer;
use tollgate::keys::vkey::NoteVerifierKey;
use tollgate::ledger::{
    Checkpoint, CheckpointError, EMPTY_ROOT, Note, NoteError, SignedCheckpoint, leaf_hash,
};

const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

fn signer(name: &str, seed: u8) -> Signer {
    Signer::from_signing_key(name, SigningKey::from_bytes(&[seed; 32])).unwrap()
}

fn vkey(s: &Signer) -> NoteVerifierKey {
    NoteVerifierKey::of_signer(s).unwrap()
}

fn malformed(bytes: &[u8]) -> bool {
    matches!(
        Note::parse(bytes),
        Err(NoteError::Malformed(_) | NoteError::TooManySignatures)
    )
}

#[test]
fn the_c2sp_spec_example_verifies() {
    let key: NoteVerifierKey = SPEC_VKEY.parse().unwrap();
    let note = Note::parse(SPEC_NOTE.as_bytes()).unwrap();
    assert_eq!(note.text(), "This is an example message.\n");
    let outcome = note.verify(&[key]).unwrap();
    assert_eq!(outcome.verified.len(), 1);
    assert_eq!(outcome.verified[0].key_id(), 0x530d_903a);
    assert!(outcome.unverified.is_empty());
    assert_eq!(note.to_bytes(), SPEC_NOTE.as_bytes());
}

#[test]
fn sign_parse_verify_round_trips() {
    let (a, b) = (signer("a.example", 1), signer("b.example", 2));
    let note = Note::sign("hello\nworld\n", &[&a, &b]).unwrap();
    let bytes = note.to_bytes();
    let parsed = Note::parse(&bytes).unwrap();
    assert_eq!(parsed, note);
    assert_eq!(parsed.to_bytes(), bytes);
    assert_eq!(
        parsed.verify(&[vkey(&a), vkey(&b)]).unwrap().verified.len(),
        2
    );
}

#[test]
fn one_known_and_one_unknown_signature() {
    let (known, unknown) = (signer("known", 1), signer("unknown", 2));
    let note = Note::sign("text\n", &[&known, &unknown]).unwrap();
    let outcome = note.verify(&[vkey(&known)]).unwrap();
    assert_eq!(outcome.verified.len(), 1);
    assert_eq!(outcome.verified[0].name(), "known");
    assert_eq!(outcome.unverified.len(), 1);
    assert_eq!(outcome.unverified[0].name(), "unknown");
}

#[test]
fn no_verifiers_means_unverified() {
    let note = Note::sign("text\n", &[&signer("a", 1)]).unwrap();
    assert_eq!(note.verify(&[]), Err(NoteError::Unverified));
    assert_eq!(
        note.verify(&[vkey(&signer("b", 2))]),
        Err(NoteError::Unverified)
    );
}

#[test]
fn duplicate_verifiers_for_the_same_key_are_ambiguous() {
    let a = signer("a", 1);
    let note = Note::sign("text\n", &[&a]).unwrap();
    assert!(matches!(
        note.verify(&[vkey(&a), vkey(&a)]),
        Err(NoteError::AmbiguousKey(..))
    ));
}

#[test]
fn more_than_100_signatures_is_malformed_and_100_is_fine() {
    let signers: Vec<Signer> = (0..101u8).map(|i| signer(&format!("k{i}"), i)).collect();
    let refs: Vec<&Signer> = signers.iter().collect();
    assert_eq!(Note::sign("t\n", &refs), Err(NoteError::TooManySignatures));
    let note = Note::sign("t\n", &refs[..100]).unwrap();
    let mut bytes = note.to_bytes();
    let parsed = Note::parse(&bytes).unwrap();
    assert_eq!(parsed.signatures().len(), 100);
    assert!(parsed.verify(&[vkey(&signers[42])]).is_ok());
    // A 101st line, even an exact repeat, is over the cap.
    let last = parsed.signatures()[99].to_line();
    bytes.extend_from_slice(last.as_bytes());
    assert!(malformed(&bytes));
}

#[test]
fn corrupted_signature_from_a_known_key_rejects_the_whole_note() {
    let (a, b) = (signer("a", 1), signer("b", 2));
    let good = Note::sign("text\n", &[&a]).unwrap();
    let other = Note::sign("other\n", &[&b]).unwrap();
    // b's signature over different text: a known key that fails.
    let mut bytes = good.to_bytes();
    bytes.extend_from_slice(other.signatures()[0].to_line().as_bytes());
    let note = Note::parse(&bytes).unwrap();
    assert!(note.verify(&[vkey(&a)]).is_ok(), "b is unknown here");
    assert!(matches!(
        note.verify(&[vkey(&a), vkey(&b)]),
        Err(NoteError::InvalidSignature(..))
    ));
    // Flip a bit in a's own signature.
    let line = good.signatures()[0].to_line();
    let b64 = line.trim_end().rsplit(' ').next().unwrap();
    let mut raw = encoding::decode_standard(b64).unwrap();
    raw[10] ^= 1;
    let forged = format!("text\n\n\u{2014} a {}\n", encoding::encode(&raw));
    assert!(matches!(
        Note::parse(forged.as_bytes()).unwrap().verify(&[vkey(&a)]),
        Err(NoteError::InvalidSignature(..))
    ));
    // A known key with a signature of the wrong length.
    let mut short = raw[..4].to_vec();
    short.extend_from_slice(&[0u8; 10]);
    let short = format!("text\n\n\u{2014} a {}\n", encoding::encode(&short));
    assert!(matches!(
        Note::parse(short.as_bytes()).unwrap().verify(&[vkey(&a)]),
        Err(NoteError::InvalidSignature(..))
    ));
}

#[test]
fn repeated_identical_signature_lines_count_once() {
    let a = signer("a", 1);
    let note = Note::sign("text\n", &[&a]).unwrap();
    let line = note.signatures()[0].to_line();
    let bytes = format!("text\n\n{line}{line}{line}");
    let parsed = Note::parse(bytes.as_bytes()).unwrap();
    assert_eq!(parsed.signatures().len(), 1);
    assert_eq!(parsed.verify(&[vkey(&a)]).unwrap().verified.len(), 1);
}

#[test]
fn structural_negatives_are_malformed() {
    let a = signer("a", 1);
    let line = Note::sign("text\n", &[&a]).unwrap().signatures()[0].to_line();
    let b64 = line.trim_end().rsplit(' ').next().unwrap().to_owned();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("no blank line", format!("text\n{line}").into_bytes()),
        ("leading newline", format!("\n\n{line}").into_bytes()),
        (
            "leading newline before text",
            format!("\ntext\n\n{line}").into_bytes(),
        ),
        (
            "signature line without final newline",
            format!("text\n\n{}", line.trim_end()).into_bytes(),
        ),
        (
            "control character",
            format!("te\x01xt\n\n{line}").into_bytes(),
        ),
        ("carriage return", format!("text\r\n\n{line}").into_bytes()),
        ("invalid UTF-8", {
            let mut v = b"te\xffxt\n\n".to_vec();
            v.extend_from_slice(line.as_bytes());
            v
        }),
        (
            "key name with a space",
            format!("text\n\n\u{2014} a b {b64}\n").into_bytes(),
        ),
        (
            "key name with a plus",
            format!("text\n\n\u{2014} a+b {b64}\n").into_bytes(),
        ),
        (
            "key name with NBSP",
            format!("text\n\n\u{2014} a\u{a0}b {b64}\n").into_bytes(),
        ),
        (
            "empty key name",
            format!("text\n\n\u{2014}  {b64}\n").into_bytes(),
        ),
        (
            "hyphen instead of em dash",
            format!("text\n\n- a {b64}\n").into_bytes(),
        ),
        ("no signatures", b"text\n\n".to_vec()),
        (
            "empty signature line",
            format!("text\n\n{line}\n").into_bytes(),
        ),
        (
            "non-canonical base64",
            format!("text\n\n\u{2014} a {}\n", b64.trim_end_matches('=')).into_bytes(),
        ),
        (
            "signature too short",
            "text\n\n\u{2014} a AAAAAA==\n".as_bytes().to_vec(),
        ),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in cases {
        assert!(malformed(&bytes), "{what}: {:?}", Note::parse(&bytes));
    }
}

#[test]
fn wrong_key_name_or_key_id_does_not_verify() {
    // Our lookup is by exact (name, id), so a mismatch is an unknown key:
    // ignored, and with no other signature the note is unverified.
    let a = signer("a", 1);
    let note = Note::sign("text\n", &[&a]).unwrap();
    let line = note.signatures()[0].to_line();
    let b64 = line.trim_end().rsplit(' ').next().unwrap();
    let renamed = format!("text\n\n\u{2014} b {b64}\n");
    assert_eq!(
        Note::parse(renamed.as_bytes()).unwrap().verify(&[vkey(&a)]),
        Err(NoteError::Unverified)
    );
    let mut raw = encoding::decode_standard(b64).unwrap();
    raw[0] ^= 0x80;
    let other_id = format!("text\n\n\u{2014} a {}\n", encoding::encode(&raw));
    assert_eq!(
        Note::parse(other_id.as_bytes())
            .unwrap()
            .verify(&[vkey(&a)]),
        Err(NoteError::Unverified)
    );
}

#[test]
fn invalid_key_names_cannot_sign_or_verify() {
    for name in ["", "a b", "a+b", "a\u{a0}b", "a\tb"] {
        let s = signer(name, 1);
        assert_eq!(
            Note::sign("text\n", &[&s]),
            Err(NoteError::BadKeyName(name.to_owned())),
            "{name:?}"
        );
        assert!(NoteVerifierKey::of_signer(&s).is_err(), "{name:?}");
    }
}

#[test]
fn invalid_text_cannot_be_signed() {
    let a = signer("a", 1);
    for text in ["", "no newline", "\nleading\n", "bell\x07\n"] {
        assert!(Note::sign(text, &[&a]).is_err(), "{text:?}");
    }
    assert!(Note::sign("text\n", &[]).is_err(), "no signers");
    // Blank lines inside the text are fine: the last blank line separates.
    let note = Note::sign("a\n\nb\n\n", &[&a]).unwrap();
    let parsed = Note::parse(&note.to_bytes()).unwrap();
    assert_eq!(parsed.text(), "a\n\nb\n\n");
    assert!(parsed.verify(&[vkey(&a)]).is_ok());
}

// ---- checkpoints (§6 G) ----

fn root_b64() -> String {
    encoding::encode(&leaf_hash(b"root"))
}

#[test]
fn checkpoint_text_round_trips_byte_for_byte() {
    let texts = [
        format!("example.com/log\n123\n{}\n", root_b64()),
        format!("example.com/log\n0\n{}\n", encoding::encode(&EMPTY_ROOT)),
        format!("o\n18446744073709551615\n{}\n", root_b64()),
    ];
    for text in texts {
        let c = Checkpoint::parse(&text).unwrap();
        assert_eq!(c.to_text(), text);
    }
}

#[test]
fn checkpoint_extension_lines_are_accepted_and_dropped() {
    let text = format!("example.com/origin\n123\n{}\nabc\ndef\n", root_b64());
    let c = Checkpoint::parse(&text).unwrap();
    assert_eq!(c.size, 123);
    assert_eq!(
        c.to_text(),
        format!("example.com/origin\n123\n{}\n", root_b64())
    );
}

#[test]
fn checkpoint_negatives() {
    let r = root_b64();
    let thirty_three = encoding::encode(&[7u8; 33]);
    let thirty_one = encoding::encode(&[7u8; 31]);
    let cases: Vec<(String, CheckpointError)> = vec![
        (format!("\n1\n{r}\n"), CheckpointError::EmptyOrigin),
        (
            format!("o\n0xabcdef\n{r}\n"),
            CheckpointError::BadSize("0xabcdef".into()),
        ),
        (
            format!("o\n18446744073709551616\n{r}\n"),
            CheckpointError::BadSize("18446744073709551616".into()),
        ),
        (
            format!("o\n0123\n{r}\n"),
            CheckpointError::BadSize("0123".into()),
        ),
        (
            format!("o\n00\n{r}\n"),
            CheckpointError::BadSize("00".into()),
        ),
        (
            format!("o\n+1\n{r}\n"),
            CheckpointError::BadSize("+1".into()),
        ),
        (
            format!("o\n-1\n{r}\n"),
            CheckpointError::BadSize("-1".into()),
        ),
        (
            format!("o\n\n{r}\n"),
            CheckpointError::BadSize(String::new()),
        ),
        (
            format!("o\n 1\n{r}\n"),
            CheckpointError::BadSize(" 1".into()),
        ),
        (
            "o\n1\nnot base64!\n".into(),
            CheckpointError::BadRootEncoding,
        ),
        (
            format!("o\n1\n{}\n", r.trim_end_matches('=')),
            CheckpointError::BadRootEncoding,
        ),
        (
            format!("o\n1\n{thirty_three}\n"),
            CheckpointError::BadRootLength(33),
        ),
        (
            format!("o\n1\n{thirty_one}\n"),
            CheckpointError::BadRootLength(31),
        ),
        (format!("o\n1\n{r}\n\n"), CheckpointError::EmptyExtension),
        (
            format!("o\n1\n{r}\nok\n\nx\n"),
            CheckpointError::EmptyExtension,
        ),
        (format!("o\n1\n{r}"), CheckpointError::MissingFinalNewline),
        ("o\n1\n".into(), CheckpointError::MissingLines),
        (
            format!("o\n0\n{r}\n"),
            CheckpointError::NonEmptyRootForEmptyTree,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(Checkpoint::parse(&text), Err(want), "{text:?}");
    }
}

fn log_signer() -> Signer {
    signer("example.com/log", 9)
}

#[test]
fn signed_checkpoint_round_trips_and_keeps_the_raw_bytes() {
    let log = log_signer();
    let c = Checkpoint {
        origin: "example.com/log".into(),
        size: 42,
        root: leaf_hash(b"x"),
    };
    let signed = SignedCheckpoint::sign(&c, &log).unwrap();
    let parsed = SignedCheckpoint::parse_and_verify(signed.as_bytes(), &vkey(&log)).unwrap();
    assert_eq!(parsed.checkpoint(), &c);
    assert_eq!(parsed.as_bytes(), signed.as_bytes());

    // A witness cosignature (unknown to us) rides along and is kept verbatim.
    let mut note = Note::parse(signed.as_bytes()).unwrap();
    note.add_signature(&signer("witness.example", 3)).unwrap();
    let cosigned = note.to_bytes();
    let parsed = SignedCheckpoint::parse_and_verify(&cosigned, &vkey(&log)).unwrap();
    assert_eq!(parsed.as_bytes(), cosigned.as_slice());
    assert_eq!(parsed.checkpoint(), &c);
}

#[test]
fn signed_checkpoint_requires_the_log_key_and_its_origin() {
    let log = log_signer();
    let c = Checkpoint {
        origin: "example.com/log".into(),
        size: 1,
        root: leaf_hash(b"x"),
    };
    let signed = SignedCheckpoint::sign(&c, &log).unwrap();
    // Another key with the same name is not the log key.
    let impostor = signer("example.com/log", 10);
    assert!(matches!(
        SignedCheckpoint::parse_and_verify(signed.as_bytes(), &vkey(&impostor)),
        Err(CheckpointError::Note(NoteError::Unverified))
    ));
    // Our log key signing someone else's origin.
    let foreign = Note::sign(&format!("example.com/other\n1\n{}\n", root_b64()), &[&log]).unwrap();
    assert!(matches!(
        SignedCheckpoint::parse_and_verify(&foreign.to_bytes(), &vkey(&log)),
        Err(CheckpointError::OriginMismatch { .. })
    ));
    // Signing refuses a mismatched origin and a size-0 checkpoint with a root.
    let mut other = c.clone();
    other.origin = "example.com/other".into();
    assert!(matches!(
        SignedCheckpoint::sign(&other, &log),
        Err(CheckpointError::OriginMismatch { .. })
    ));
    let mut empty = c.clone();
    empty.size = 0;
    assert_eq!(
        SignedCheckpoint::sign(&empty, &log),
        Err(CheckpointError::NonEmptyRootForEmptyTree)
    );
    empty.root = EMPTY_ROOT;
    assert!(SignedCheckpoint::sign(&empty, &log).is_ok());
    // A signed but malformed checkpoint body.
    let bad = Note::sign("example.com/log\n01\nAAAA\n", &[&log]).unwrap();
    assert!(matches!(
        SignedCheckpoint::parse_and_verify(&bad.to_bytes(), &vkey(&log)),
        Err(CheckpointError::BadSize(_))
    ));
}
