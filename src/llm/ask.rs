//! `Memdir::ask`: a question answered by the model from the memories that matter for it, in
//! one stateless request. The context is built as [`Memdir::context`] builds it; the answer
//! keeps the citations of what the model was given.

use serde::Serialize;

use super::{ChatRequest, LlmClient};
use crate::context::{Context, ContextRequest};
use crate::{Memdir, Result};

/// The system prompt of [`Memdir::ask`], before the context.
pub const ASK_SYSTEM_PROMPT: &str = "You answer questions from an agent's memory. The memories \
below are what is known; each carries a citation [id@revision]. Answer from them, citing each \
memory you use by its citation. If they do not hold the answer, say so instead of guessing.";

/// What [`Memdir::ask`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The model's answer.
    pub answer: String,
    /// The citations (`id@revision`) of every memory the model was given, in context order.
    pub citations: Vec<String>,
    /// The model that answered.
    pub model: String,
    /// The context that was sent.
    #[serde(skip)]
    pub context: Context,
}

impl Memdir {
    /// Answers `request.query` with `llm`: builds the context for it (within
    /// `request.budget`, logged as `request.log` says), sends it with the question as one
    /// request, and returns the answer with the citations of what the model was given.
    #[tracing::instrument(skip_all)]
    pub async fn ask(&self, llm: &LlmClient, request: &ContextRequest) -> Result<Answer> {
        let context = self.context(request)?;
        let chat = ChatRequest::new(
            format!("{ASK_SYSTEM_PROMPT}\n\n{}", context.text.trim_end()),
            request.query.clone(),
        );
        let completion = llm.complete(&chat).await?;
        Ok(Answer {
            answer: completion.text.trim().to_owned(),
            citations: context.items.iter().map(|i| i.citation()).collect(),
            model: completion.model,
            context,
        })
    }
}
