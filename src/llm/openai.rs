//! OpenAI's chat completions, as OpenAI, Ollama, llama.cpp's server, vLLM and others speak
//! them: `POST {base_url}/chat/completions` with a bearer key.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiKey, ChatRequest, Completion, Role};

/// Returns the endpoint under `base_url` (which usually ends in `/v1`).
pub(super) fn endpoint(base_url: &str) -> String {
    format!("{}/chat/completions", base_url.trim_end_matches('/'))
}

/// Returns the request body. Only `model` and `messages` are sent: newer OpenAI models refuse
/// `max_tokens` and a `temperature` other than 1, and the server's defaults suit the rest.
pub(super) fn body(model: &str, request: &ChatRequest) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = &request.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    for m in &request.messages {
        let role = match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        messages.push(json!({"role": role, "content": m.content}));
    }
    json!({"model": model, "messages": messages})
}

/// Returns the headers that carry the key.
pub(super) fn auth_headers(key: Option<&ApiKey>) -> Vec<(&'static str, String)> {
    key.map(|k| vec![("authorization", format!("Bearer {}", k.value))])
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct Response {
    model: Option<String>,
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

/// Reads a successful response body; the error says what is missing.
pub(super) fn parse(body: &[u8], model: &str) -> Result<Completion, String> {
    let r: Response = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let message = r
        .choices
        .into_iter()
        .next()
        .ok_or("`choices` is empty")?
        .message;
    let text = match (message.content, message.refusal) {
        (Some(text), _) => text,
        (None, Some(refusal)) => return Err(format!("the model refused: {refusal}")),
        (None, None) => return Err("`choices[0].message.content` is missing".into()),
    };
    Ok(Completion {
        text,
        model: r.model.unwrap_or_else(|| model.to_owned()),
        input_tokens: r.usage.as_ref().and_then(|u| u.prompt_tokens),
        output_tokens: r.usage.as_ref().and_then(|u| u.completion_tokens),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ChatMessage;

    #[test]
    fn the_system_prompt_is_the_first_message() {
        let request = ChatRequest {
            system: Some("be brief".into()),
            messages: vec![ChatMessage::user("hi")],
        };
        assert_eq!(
            body("m", &request),
            json!({"model": "m", "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"},
            ]})
        );
        assert_eq!(
            endpoint("http://localhost:11434/v1/"),
            "http://localhost:11434/v1/chat/completions"
        );
    }

    #[test]
    fn responses_without_text_say_what_is_missing() {
        let ok = br#"{"model": "llama3.2", "choices": [{"message": {"role": "assistant", "content": "42"}}], "usage": {"prompt_tokens": 9, "completion_tokens": 1}}"#;
        let c = parse(ok, "configured").unwrap();
        assert_eq!((c.text.as_str(), c.model.as_str()), ("42", "llama3.2"));
        assert_eq!((c.input_tokens, c.output_tokens), (Some(9), Some(1)));
        assert_eq!(
            parse(br#"{"choices": []}"#, "m").unwrap_err(),
            "`choices` is empty"
        );
        assert_eq!(
            parse(
                br#"{"choices": [{"message": {"content": null, "refusal": "no"}}]}"#,
                "m"
            )
            .unwrap_err(),
            "the model refused: no"
        );
    }
}
