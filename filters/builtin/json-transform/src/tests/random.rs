//! Generated documents and edit sets: the lazy engine against the
//! whole-`Value` reference. Documents are written by serde_json (so the
//! reference's output spells every number and string as the input did),
//! then compact, pretty or with whitespace sprinkled between tokens, then
//! also broken in small ways.

use serde_json::{Map, Value, json};

use super::{edits, is_compact, lazy, reference, same_document};

/// xorshift64*: reproducible, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Member names: plain, needing pointer escapes, needing JSON escapes,
/// non-ASCII, empty, and ones that look like array indices.
const NAMES: &[&str] = &[
    "a",
    "b",
    "c",
    "id",
    "user",
    "email",
    "items",
    "a/b",
    "m~n",
    "~1",
    "~",
    "é",
    "日本",
    "😀",
    "",
    "x y",
    "q\"t",
    "back\\slash",
    "tab\tkey",
    "0",
    "1",
    "-",
];
/// Tokens that only make sense for arrays, or make no sense at all.
const INDICES: &[&str] = &["0", "1", "2", "5", "-", "01", "99"];
const STRINGS: &[&str] = &[
    "",
    "Ada",
    "a b",
    "é日本😀",
    "q\"t",
    "\\",
    "line\nbreak",
    "\u{1}\u{1f}",
    "~0/~1",
    "  ",
    "{[,:]}",
];

fn value(rng: &mut Rng, depth: usize) -> Value {
    if depth < 4 && rng.chance(60 - depth * 12) {
        if rng.chance(60) {
            let mut members = Map::new();
            for _ in 0..rng.below(6) {
                members.insert(rng.pick(NAMES).to_string(), value(rng, depth + 1));
            }
            return Value::Object(members);
        }
        return Value::Array((0..rng.below(5)).map(|_| value(rng, depth + 1)).collect());
    }
    match rng.below(8) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => json!(rng.below(2001) as i64 - 1000),
        3 => json!(*rng.pick(&[u64::MAX, i64::MAX as u64, (1 << 53) + 1, 0])),
        4 => json!(i64::MIN),
        // Quarters: exact in binary, written without an exponent.
        5 => json!((rng.below(8001) as f64 - 4000.0) / 4.0),
        _ => json!(rng.pick(STRINGS)),
    }
}

/// Every path in `doc`, the root's (empty) included.
fn paths(doc: &Value, prefix: &mut Vec<String>, all: &mut Vec<Vec<String>>) {
    all.push(prefix.clone());
    let children: Vec<(String, &Value)> = match doc {
        Value::Object(members) => members.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return,
    };
    for (token, child) in children {
        prefix.push(token);
        paths(child, prefix, all);
        prefix.pop();
    }
}

fn pointer(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// A pointer to something the document has, below something it has, or
/// most likely nothing.
fn random_pointer(rng: &mut Rng, paths: &[Vec<String>]) -> String {
    let mut tokens = rng.pick(paths).clone();
    match rng.below(10) {
        0..=5 if !tokens.is_empty() => {}
        0..=7 => {
            let tokens_of = if rng.chance(50) { NAMES } else { INDICES };
            tokens.push(rng.pick(tokens_of).to_string());
        }
        _ => {
            tokens = (0..1 + rng.below(3))
                .map(|_| rng.pick(NAMES).to_string())
                .collect();
        }
    }
    pointer(&tokens)
}

fn random_config(rng: &mut Rng, doc: &Value) -> Value {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    let pointers = |rng: &mut Rng, most: usize| -> Vec<String> {
        (0..rng.below(most + 1))
            .map(|_| random_pointer(rng, &all))
            .collect()
    };
    let remove = pointers(rng, 2);
    let redact = pointers(rng, 2);
    let rename: Map<String, Value> = (0..rng.below(3))
        .map(|_| {
            (
                pointers(rng, 1).pop().unwrap_or("/a".into()),
                json!(random_pointer(rng, &all)),
            )
        })
        .collect();
    let add: Map<String, Value> = pointers(rng, 3)
        .into_iter()
        .map(|p| (p, value(rng, 2)))
        .collect();
    let redact_with = rng
        .pick(&[
            json!(null),
            json!("[redacted]"),
            json!(0),
            json!({ "r": [1] }),
        ])
        .clone();
    json!({
        "request": { "remove": remove, "redact": redact, "rename": rename, "add": add },
        "create_parents": rng.chance(50),
        "redact_with": redact_with,
    })
}

fn whitespace(rng: &mut Rng, out: &mut String) {
    if rng.chance(50) {
        for _ in 0..1 + rng.below(3) {
            out.push(*rng.pick(&[' ', '\n', '\t', '\r']));
        }
    }
}

/// `json` with whitespace around its structural characters.
fn sprinkled(rng: &mut Rng, json: &str) -> String {
    let mut out = String::new();
    whitespace(rng, &mut out);
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            out.push(c);
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' | ',' | ':' => {
                out.push(c);
                whitespace(rng, &mut out);
            }
            '}' | ']' => {
                whitespace(rng, &mut out);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    whitespace(rng, &mut out);
    out
}

/// `json` with one byte cut, added or changed, or cut short. No `e`: an
/// exponent grafted onto a long integer would overflow f64, one of the
/// serde_json limits only a whole parse enforces.
fn broken(rng: &mut Rng, json: &[u8]) -> Vec<u8> {
    const BYTES: &[u8] = b",}]{[\":x\\05 \n\xff";
    let mut out = json.to_vec();
    let at = rng.below(out.len());
    match rng.below(4) {
        0 => out.truncate(at),
        1 => out.insert(at, *rng.pick(BYTES)),
        2 => drop(out.remove(at)),
        _ => out[at] = *rng.pick(BYTES),
    }
    out
}

#[derive(Default, Debug)]
struct Tally {
    edited: usize,
    unchanged: usize,
    invalid: usize,
}

/// The engines agree exactly: both invalid, both unchanged, or the same
/// bytes.
fn agree(edits: &crate::edits::Edits, body: &[u8], tally: &mut Tally) {
    let lazy = lazy(edits, body);
    let whole = reference::edit(edits, body);
    match (&lazy, &whole) {
        (Ok(a), Ok(b)) if a == b => {}
        (Err(_), Err(_)) => {}
        _ => panic!(
            "body {:?}\nlazy  {:?}\nwhole {:?}",
            String::from_utf8_lossy(body),
            lazy.map(|o| o.map(|b| String::from_utf8_lossy(&b).into_owned())),
            whole.map(|o| o.map(|b| String::from_utf8_lossy(&b).into_owned())),
        ),
    }
    match lazy {
        Ok(Some(_)) => tally.edited += 1,
        Ok(None) => tally.unchanged += 1,
        Err(_) => tally.invalid += 1,
    }
}

/// The engines agree on validity and on whether anything changed; the
/// outputs are the same document (a broken body may spell a number or
/// string differently, or repeat a name, where no edit reached) and
/// compact.
fn agree_on_broken(edits: &crate::edits::Edits, body: &[u8], tally: &mut Tally) {
    let lazy = lazy(edits, body);
    let whole = reference::edit(edits, body);
    let context = || {
        format!(
            "body {:?}\nlazy {lazy:?}\nwhole {whole:?}",
            String::from_utf8_lossy(body)
        )
    };
    match (&lazy, &whole) {
        (Ok(Some(a)), Ok(Some(b))) => {
            assert!(same_document(a, b), "{}", context());
            assert!(is_compact(a), "{}", context());
            tally.edited += 1;
        }
        (Ok(None), Ok(None)) => tally.unchanged += 1,
        (Err(_), Err(_)) => tally.invalid += 1,
        _ => panic!("{}", context()),
    }
}

#[test]
fn generated_documents_and_edits_match_the_whole_value_engine() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut valid, mut broken_tally) = (Tally::default(), Tally::default());
    for _ in 0..3000 {
        let doc = value(&mut rng, 0);
        let compact = serde_json::to_string(&doc).unwrap();
        let bodies = [
            compact.clone(),
            serde_json::to_string_pretty(&doc).unwrap(),
            sprinkled(&mut rng, &compact),
        ];
        for _ in 0..3 {
            let Ok(edits) = edits(random_config(&mut rng, &doc)) else {
                continue; // nothing to do, or a rename chain
            };
            for body in &bodies {
                agree(&edits, body.as_bytes(), &mut valid);
            }
            for _ in 0..3 {
                let body = rng.pick(&bodies[..]).clone();
                let body = broken(&mut rng, body.as_bytes());
                agree_on_broken(&edits, &body, &mut broken_tally);
            }
        }
    }
    // Not vacuous: plenty of each outcome.
    println!("valid: {valid:?}\nbroken: {broken_tally:?}");
    assert!(valid.edited > 5000 && valid.unchanged > 500, "{valid:?}");
    assert!(
        broken_tally.invalid > 3000 && broken_tally.edited > 1000,
        "{broken_tally:?}"
    );
}
