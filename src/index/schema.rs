//! What the index holds and how its text is analyzed: the tantivy schema (one *memory*
//! document per memory, one *passage* document per passage) and the English analyzer that
//! both indexing and queries use.

use tantivy::schema::{
    DateOptions, FAST, Field, INDEXED, IndexRecordOption, NumericOptions, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};

/// Bump when the schema or what is indexed changes: older indexes are then rebuilt.
pub(super) const SCHEMA_VERSION: u32 = 10;
/// The name the analyzer is registered under.
pub(super) const TOKENIZER: &str = "memdir_en";
/// The `kind` of a memory document (metadata, for `get` and `list`).
pub(super) const KIND_MEMORY: &str = "m";
/// The `kind` of a passage document (text, for `search`).
pub(super) const KIND_PASSAGE: &str = "p";

/// The fields of the schema.
pub(super) struct Fields {
    pub(super) kind: Field,
    pub(super) id: Field,
    pub(super) key: Field,
    pub(super) path: Field,
    pub(super) label: Field,
    pub(super) title: Field,
    pub(super) heading: Field,
    pub(super) body: Field,
    pub(super) context: Field,
    pub(super) tags: Field,
    pub(super) tag: Field,
    pub(super) mtype: Field,
    pub(super) scope: Field,
    pub(super) created: Field,
    pub(super) updated: Field,
    pub(super) pinned: Field,
    pub(super) revision: Field,
    pub(super) line_start: Field,
    pub(super) line_end: Field,
    pub(super) quarantined: Field,
    pub(super) expires: Field,
    pub(super) has_expires: Field,
    pub(super) supersedes: Field,
    pub(super) has_supersedes: Field,
    pub(super) stamped: Field,
    pub(super) derived: Field,
    pub(super) version: Field,
    pub(super) valid_from: Field,
    pub(super) valid_to: Field,
}

/// Returns the schema and its fields.
pub(super) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let date = DateOptions::default().set_indexed().set_stored().set_fast();
    let num = NumericOptions::default().set_stored();
    let fields = Fields {
        kind: b.add_text_field("kind", STRING),
        id: b.add_text_field("id", STRING | STORED),
        // A hash of the id in a fast column: search groups hits by memory from it, loading
        // stored documents only for the hits it returns (a string column would decompress a
        // dictionary block per hit).
        key: b.add_u64_field("key", FAST),
        path: b.add_text_field("path", STRING | STORED),
        label: b.add_text_field("label", STORED),
        title: b.add_text_field("title", text.clone()),
        heading: b.add_text_field("heading", text.clone()),
        body: b.add_text_field("body", text.clone()),
        context: b.add_text_field(
            "context",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        ),
        tags: b.add_text_field("tags", text),
        tag: b.add_text_field("tag", STRING | STORED),
        mtype: b.add_text_field("type", STRING | STORED),
        scope: b.add_text_field("scope", STRING | STORED),
        created: b.add_date_field("created", date.clone()),
        updated: b.add_date_field("updated", date),
        pinned: b.add_u64_field("pinned", num.clone().set_indexed()),
        revision: b.add_text_field("revision", STRING | STORED),
        // Also a fast column: equal scores are ordered by memory, then by line (`read.rs`).
        line_start: b.add_u64_field("line_start", num.clone().set_fast()),
        line_end: b.add_u64_field("line_end", num.clone()),
        quarantined: b.add_u64_field("quarantined", num.clone().set_indexed()),
        expires: b.add_date_field(
            "expires",
            DateOptions::default().set_indexed().set_stored().set_fast(),
        ),
        has_expires: b.add_u64_field("has_expires", num.clone().set_indexed()),
        has_supersedes: b.add_u64_field("has_supersedes", num.clone().set_indexed()),
        stamped: b.add_u64_field("stamped", num.set_indexed()),
        // 1 when the memory records sources (`derived_from:`), in a fast column: a context
        // reads and checks the sources of those alone for drift (no term dictionary to write).
        derived: b.add_u64_field("derived", FAST),
        supersedes: b.add_text_field("supersedes", STRING | STORED),
        // Only in an index of versions: which version a document belongs to, and the span of
        // history it is valid in (`valid_from <= at < valid_to`).
        version: b.add_text_field("version", STRING),
        valid_from: b.add_u64_field("valid_from", INDEXED | STORED | FAST),
        valid_to: b.add_u64_field("valid_to", INDEXED | STORED | FAST),
    };
    (b.build(), fields)
}

/// Returns the analyzer of every text field and of queries: words, lowercased, folded to
/// ASCII, English stop words dropped, stemmed.
pub(super) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::new(Language::English).expect("tantivy ships English stop words"))
        .filter(Stemmer::new(Language::English))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut a = analyzer();
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn analysis_stems_folds_and_drops_stop_words() {
        assert_eq!(
            tokens("The users are Running café deployments"),
            ["user", "run", "cafe", "deploy"]
        );
    }
}
