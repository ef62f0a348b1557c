//! Hand-picked bodies and edits: what the docs and the gateway's tests
//! promise, corners of the lazy parsing, and where it differs on purpose
//! from parsing the whole body.

use serde_json::{Value, json};

use super::{edits, is_compact, lazy, reference, same_document};

/// The lazy engine's output for `body`, after checking it is the
/// reference's, byte for byte.
fn same(config: Value, body: &str) -> Option<String> {
    let edits = edits(config).unwrap();
    let lazy = lazy(&edits, body.as_bytes()).map_err(|e| e.to_string());
    let whole = reference::edit(&edits, body.as_bytes()).map_err(|e| e.to_string());
    assert_eq!(
        lazy.as_ref()
            .map(|o| o.as_ref().map(|b| String::from_utf8_lossy(b))),
        whole
            .as_ref()
            .map(|o| o.as_ref().map(|b| String::from_utf8_lossy(b))),
        "body {body:?}"
    );
    lazy.unwrap().map(|b| String::from_utf8(b).unwrap())
}

#[test]
fn the_gateway_tests_request_edits() {
    let config = json!({ "request": {
            "remove": ["/password", "/tags/0", "/missing/deep"],
            "rename": { "/user/name": "/user/login", "/absent": "/elsewhere" },
            "redact": ["/card/number", "/nope"],
            "add": { "/meta/source": "weir", "/tags/-": "added", "/a~1b": { "nested": [1] } } },
        "create_parents": true });
    let sent = r#"{"user":{"name":"ann","id":1},"password":"s3cret","card":{"number":"4111","exp":"12/30"},"tags":["a","b"],"z":1}"#;
    assert_eq!(
        same(config, sent).unwrap(),
        r#"{"user":{"id":1,"login":"ann"},"card":{"number":"[redacted]","exp":"12/30"},"tags":["b","added"],"z":1,"a/b":{"nested":[1]},"meta":{"source":"weir"}}"#
    );

    let config = json!({ "request": {
            "redact": ["/secret", "/list/1"],
            "add": { "/meta/source": "weir", "/top": 1, "/list/9": "x" } },
        "redact_with": null });
    assert_eq!(
        same(config, r#"{"a":1,"secret":{"k":"v"},"list":[1,2]}"#).unwrap(),
        r#"{"a":1,"secret":null,"list":[1,null],"top":1}"#
    );
}

#[test]
fn nothing_changed_is_none_so_the_body_goes_on_as_it_came() {
    let config = json!({ "request": { "remove": ["/x", "/a/b/c", "/l/5"], "redact": ["/s/x"] } });
    assert_eq!(
        same(
            config,
            "{ \"b\" : 2, \"a\": {\"b\": 1}, \"l\": [], \"s\": \"t\" }"
        ),
        None
    );
}

#[test]
fn whitespace_is_dropped_wherever_it_was() {
    let config = json!({ "request": {
        "remove": ["/debug"], "redact": ["/user/email"],
        "rename": { "/user/id": "/user/user_id", "/moved": "/user/moved" },
        "add": { "/meta/served_by": "weir" } }, "create_parents": true });
    let body = "\r\n\t{ \"user\" :\n { \"id\" : 42 , \"email\" : \"a b@c\" } ,\n  \"debug\": [ 1, 2 ],\n  \
                \"items\" : [ { \"id\" : 1 , \"name\" : \" spaced  name \" } , [ ] , { } ] ,\n  \
                \"moved\" : { \"k\" : [ true , null , \"\\\" x \" ] }, \"n\" : -1.5 } \n";
    let out = same(config, body).unwrap();
    assert!(is_compact(out.as_bytes()), "{out}");
}

#[test]
fn names_with_escapes_and_duplicates_on_an_edited_level_go_out_as_before() {
    let config = json!({ "request": { "redact": ["/u/email"], "add": { "/u/é": 1 } } });
    same(
        config.clone(),
        r#"{"u":{"e\u006dail":"x","\u00e9":0,"t\tab\"":1}}"#,
    )
    .unwrap();
    // The first one's place, the last one's value; at the root too.
    let out = same(config, r#"{"a":1,"u":{"email":1,"k":2,"email":3},"a":4}"#).unwrap();
    assert_eq!(out, r#"{"a":4,"u":{"email":"[redacted]","k":2,"é":1}}"#);
    let many: Vec<String> = (0..40).map(|i| format!("\"k{}\":{i}", i % 25)).collect();
    let body = format!("{{\"u\":{{{}}}}}", many.join(","));
    same(json!({ "request": { "remove": ["/u/k3"] } }), &body).unwrap();
}

#[test]
fn escaped_pointer_tokens() {
    let config = json!({ "request": {
        "remove": ["/~01"], "redact": ["/a~1b/~0"], "rename": { "/m~0n/x": "/m~0n/~1" } } });
    let body = r#"{"~1":1,"/":2,"a/b":{"~":3,"~0":4},"m~n":{"x":5},"~":6}"#;
    assert_eq!(
        same(config, body).unwrap(),
        r#"{"/":2,"a/b":{"~":"[redacted]","~0":4},"m~n":{"/":5},"~":6}"#
    );
}

#[test]
fn renames_onto_existing_members_and_into_missing_places() {
    let config = json!({ "request": { "rename": {
        "/a": "/c", "/b/0": "/nowhere/x", "/d": "/b/1", "/e": "/l/-" } } });
    // `/a` replaces `/c` in place; `/b/0` finds no `/nowhere` and goes back
    // to index 0; `/d` is inserted at index 1; `/e` becomes the member `-`
    // of the object `/l`.
    assert_eq!(
        same(
            config,
            r#"{"a":{"x": 1},"b":[1,2],"c":3,"d":4,"e":5,"l":{}}"#
        )
        .unwrap(),
        r#"{"b":[1,4,2],"c":{"x":1},"l":{"-":5}}"#
    );
    let config =
        json!({ "request": { "rename": { "/a": "/a/b", "/s": "/t/u" } }, "create_parents": true });
    same(config.clone(), r#"{"a":{"x":1},"s":[1 , 2]}"#).unwrap();
    let config = json!({ "request": { "rename": { "/a": "/x/b", "/c": "/s/b" } } });
    assert_eq!(
        same(config, r#"{"a":1,"c":2,"s":"str","z":0}"#).unwrap(),
        r#"{"s":"str","z":0,"a":1,"c":2}"#
    );
}

#[test]
fn arrays_on_the_path() {
    let config = json!({ "request": {
        "remove": ["/items/0", "/items/0/tags/1", "/items/01", "/items/-"],
        "redact": ["/items/1/name", "/items/7/name"],
        "add": { "/items/0/tags/0": "first", "/items/-": { "new": true }, "/items/9": 0, "/items/1/tags/-": 1 } },
        "create_parents": true });
    let body = r#"[ "not items" ]"#;
    assert_eq!(same(config.clone(), body), None);
    let body =
        r#"{"items":[{"id":0},{"id":1,"tags":["a","b","c"]},{"id":2,"name":"n","tags":[]}]}"#;
    same(config, body).unwrap();
    let config =
        json!({ "request": { "remove": ["/0", "/1/0"], "add": { "/-": [1], "/0/x": 2 } } });
    same(config.clone(), r#"[1, {"a": [2, 3]}, [4, 5], {"x": 0}]"#).unwrap();
    same(config, r#"[[9], [8]]"#).unwrap();
}

#[test]
fn added_values_can_be_edited_by_later_adds() {
    let config = json!({ "request": {
        "add": { "/a": { "b": { "c": 1 }, "l": [1] }, "/a/b/d": 2, "/a/l/0": 0, "/a/l/-": 9 } } });
    assert_eq!(
        same(config, "{}").unwrap(),
        r#"{"a":{"b":{"c":1,"d":2},"l":[0,1,9]}}"#
    );
}

#[test]
fn scalars_and_empty_containers_at_the_root() {
    let config = json!({ "request": { "remove": ["/a"], "add": { "/b": 1, "/0": 2 } }, "create_parents": true });
    for body in [
        "1",
        "\"s\"",
        " null ",
        "true",
        "[]",
        "{}",
        "  [ ]  ",
        "{\"a\":[]}",
    ] {
        same(config.clone(), body);
    }
}

#[test]
fn invalid_json_anywhere_is_found() {
    let config = json!({ "request": { "remove": ["/a"] } });
    let edits = edits(config).unwrap();
    for body in [
        "",
        " ",
        "{",
        "{\"a\":1",
        "{\"a\":1}x",
        "{\"a\":1} 2",
        "{\"b\":[1,2,}",
        "{\"b\":{\"c\":tru}}",
        "{\"b\":\"\\x\"}",
        "{\"b\":\"\t\"}",
        "{\"b\":01}",
        "{\"b\":1.}",
        "[1,]",
        "[1 2]",
        "{\"a\" 1}",
        "{\"b\":[{\"c\":[1,{\"d\":\"e\"]}]}",
        "nul",
        "\"abc",
        "{a:1}",
        "\u{feff}{}",
    ] {
        assert!(lazy(&edits, body.as_bytes()).is_err(), "{body:?}");
        assert!(
            reference::edit(&edits, body.as_bytes()).is_err(),
            "{body:?}"
        );
    }
    let bad_utf8 = b"{\"b\":\"\xff\",\"a\":1}";
    assert!(lazy(&edits, bad_utf8).is_err());
}

/// Where the engines differ on purpose: a part no edit reaches is copied,
/// not re-serialised, so it keeps its number spellings, string escapes and
/// duplicate names; and only its syntax is checked.
#[test]
fn untouched_parts_keep_their_text() {
    let edits = edits(json!({ "request": { "remove": ["/x"] } })).unwrap();
    let body =
        r#"{"n":[1e2,1.50,-0,123456789012345678901],"s":"\u00e9\/","d":{"k":1,"k":2},"x":1}"#;
    let out = lazy(&edits, body.as_bytes()).unwrap().unwrap();
    assert_eq!(
        out,
        br#"{"n":[1e2,1.50,-0,123456789012345678901],"s":"\u00e9\/","d":{"k":1,"k":2}}"#
    );
    // The same document to anyone who parses it.
    let whole = reference::edit(&edits, body.as_bytes()).unwrap().unwrap();
    assert!(same_document(&out, &whole));

    // serde_json's own limits (nesting past 128, a number past f64, a lone
    // surrogate) fail a whole parse, but not a part left unparsed ...
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    for part in [deep.as_str(), "1e400", r#""\ud800""#] {
        let body = format!(r#"{{"x":1,"p":{part}}}"#);
        assert!(reference::edit(&edits, body.as_bytes()).is_err(), "{part}");
        let out = lazy(&edits, body.as_bytes()).unwrap().unwrap();
        assert_eq!(out, format!(r#"{{"p":{part}}}"#).as_bytes());
    }
    // ... while a member name on an edited level is still parsed.
    let edits = super::edits(json!({ "request": { "remove": ["/p/x"] } })).unwrap();
    assert!(lazy(&edits, br#"{"p":{"\ud800":1,"x":2}}"#).is_err());
}
