//! Anthropic's Messages API: `POST {base_url}/v1/messages` with `x-api-key` and
//! `anthropic-version`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiKey, ChatRequest, Completion, Role};

/// The API version every request names.
pub(super) const VERSION: &str = "2023-06-01";

/// Returns the endpoint under `base_url` (`https://api.anthropic.com`, without `/v1`).
pub(super) fn endpoint(base_url: &str) -> String {
    format!("{}/v1/messages", base_url.trim_end_matches('/'))
}

/// Returns the request body: the system prompt is a field of its own, and `max_tokens` is
/// required.
pub(super) fn body(model: &str, max_tokens: u32, request: &ChatRequest) -> Value {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            json!({"role": role, "content": m.content})
        })
        .collect();
    let mut body = json!({"model": model, "max_tokens": max_tokens, "messages": messages});
    if let Some(system) = &request.system {
        body["system"] = json!(system);
    }
    body
}

/// Returns the headers that carry the key and the API version.
pub(super) fn auth_headers(key: Option<&ApiKey>) -> Vec<(&'static str, String)> {
    let mut headers = vec![("anthropic-version", VERSION.to_owned())];
    if let Some(k) = key {
        headers.push(("x-api-key", k.value.clone()));
    }
    headers
}

#[derive(Deserialize)]
struct Response {
    model: Option<String>,
    content: Vec<Block>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

/// Reads a successful response body: the text blocks of `content`, joined.
pub(super) fn parse(body: &[u8], model: &str) -> Result<Completion, String> {
    let r: Response = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let texts: Vec<String> = r
        .content
        .into_iter()
        .filter(|b| b.kind == "text")
        .filter_map(|b| b.text)
        .collect();
    if texts.is_empty() {
        return Err("`content` has no text block".into());
    }
    Ok(Completion {
        text: texts.concat(),
        model: r.model.unwrap_or_else(|| model.to_owned()),
        input_tokens: r.usage.as_ref().and_then(|u| u.input_tokens),
        output_tokens: r.usage.as_ref().and_then(|u| u.output_tokens),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ChatMessage;

    #[test]
    fn the_system_prompt_is_a_field_and_max_tokens_is_sent() {
        let request = ChatRequest {
            system: Some("be brief".into()),
            messages: vec![ChatMessage::user("hi")],
        };
        assert_eq!(
            body("claude", 100, &request),
            json!({"model": "claude", "max_tokens": 100, "system": "be brief",
                   "messages": [{"role": "user", "content": "hi"}]})
        );
        assert_eq!(
            endpoint("https://api.anthropic.com/"),
            "https://api.anthropic.com/v1/messages"
        );
    }

    #[test]
    fn text_blocks_are_joined_and_others_skipped() {
        let ok = br#"{"model": "claude-x", "content": [{"type": "thinking", "thinking": "..."}, {"type": "text", "text": "4"}, {"type": "text", "text": "2"}], "usage": {"input_tokens": 5, "output_tokens": 2}}"#;
        let c = parse(ok, "m").unwrap();
        assert_eq!((c.text.as_str(), c.model.as_str()), ("42", "claude-x"));
        assert_eq!(
            parse(br#"{"content": []}"#, "m").unwrap_err(),
            "`content` has no text block"
        );
    }
}
