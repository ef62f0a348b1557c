//! Setting and removing query parameters while every other parameter keeps
//! its place and its exact encoding (upstreams may sign or cache on it).

/// The query after the edits, or `None` when no parameter is left. Names are
/// compared decoded (`a%20b` is `a b`); set values are form-encoded.
pub fn edit(query: Option<&str>, set: &[(String, String)], remove: &[String]) -> Option<String> {
    let mut pairs: Vec<String> = Vec::new();
    let mut written = vec![false; set.len()];
    for raw in query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
    {
        let name = decoded_name(raw);
        if remove.contains(&name) {
            continue;
        }
        if let Some(index) = set.iter().position(|(set_name, _)| *set_name == name) {
            // The first occurrence takes the new value in place; repeats go.
            if !std::mem::replace(&mut written[index], true) {
                pairs.push(encode(&set[index]));
            }
            continue;
        }
        pairs.push(raw.to_owned());
    }
    for (param, done) in set.iter().zip(written) {
        if !done {
            pairs.push(encode(param));
        }
    }
    (!pairs.is_empty()).then(|| pairs.join("&"))
}

fn decoded_name(raw_pair: &str) -> String {
    form_urlencoded::parse(raw_pair.as_bytes())
        .next()
        .map(|(name, _)| name.into_owned())
        .unwrap_or_default()
}

fn encode((name, value): &(String, String)) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish()
}
