//! Secrets: API keys and tokens of common providers, private keys, connection strings with
//! passwords, payment card numbers (with a Luhn check), and passwords stated in prose
//! ("the root password is ..."). Each is found with its kind, which names the redaction
//! label (`[REDACTED:aws-access-key]`) and the rule (`secret.aws-access-key`).
//!
//! Only the secret itself is redacted, not the sentence around it, so the memory still says
//! what the secret was for.

use std::sync::LazyLock;

use regex::Captures;

use super::Span;
use super::pattern::{Pattern, Present};

/// A kind of secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kind {
    /// The redaction label: `[REDACTED:<label>]`.
    pub label: &'static str,
    /// The rule id: `secret.<label>`.
    pub rule: &'static str,
    pub why: &'static str,
}

struct Detector {
    kind: Kind,
    pattern: Pattern,
    /// The capture group holding the secret (0: the whole match).
    group: usize,
    accept: Option<fn(&str, &Captures<'_>) -> bool>,
    /// A cheap test a text must pass for `accept` to take any match in it; a text that fails
    /// is not searched (nor the pattern compiled).
    needs: Option<fn(&str) -> bool>,
}

macro_rules! kind {
    ($label:literal, $why:literal) => {
        Kind {
            label: $label,
            rule: concat!("secret.", $label),
            why: $why,
        }
    };
}

const PROVIDER_WHY: &str = "an access token of a known provider: anyone who reads the memory (or the git history) could use it";

fn detector(kind: Kind, pattern: &str) -> Detector {
    Detector {
        kind,
        pattern: Pattern::new(pattern.to_owned()),
        group: 0,
        accept: None,
        needs: None,
    }
}

/// A password or code stated in words: `pattern`'s first group is the value, taken when
/// [`prose_secret`] finds it one.
fn stated_password(pattern: &str) -> Detector {
    Detector {
        group: 1,
        accept: Some(prose_secret),
        ..detector(
            kind!("password", "a password or code stated in plain words"),
            pattern,
        )
    }
}

static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(|| {
    let provider = |label: &'static str, rule: &'static str, pattern: &str| {
        detector(
            Kind {
                label,
                rule,
                why: PROVIDER_WHY,
            },
            pattern,
        )
    };
    let mut d = vec![
        Detector {
            group: 0,
            ..detector(
                kind!(
                    "private-key",
                    "a private key: whoever holds it can sign, decrypt or log in as its owner"
                ),
                r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|\z)|PuTTY-User-Key-File-\d+:[\s\S]*?Private-(?:Lines|MAC):[^\n]*",
            )
        },
        provider(
            "aws-access-key",
            "secret.aws-access-key",
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b",
        ),
        Detector {
            group: 1,
            ..provider(
                "aws-secret-key",
                "secret.aws-secret-key",
                r#"(?i)\baws[\w\s.-]{0,20}?(?:secret|sk)[\w\s.-]{0,20}?(?:[:=]|\bis\b)\s*["']?([A-Za-z0-9/+]{40})(?:["'\s,.;]|$)"#,
            )
        },
        provider(
            "github-token",
            "secret.github-token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        ),
        provider(
            "gitlab-token",
            "secret.gitlab-token",
            r"\bgl(?:pat|dt|ptt|rt|cbt|oas|ffct|ft|imt|agent|soat)-[A-Za-z0-9_-]{20,}|\bGR1348941[\w-]{20}|\b_gitlab_session=[0-9a-z]{32}\b",
        ),
        provider(
            "slack-token",
            "secret.slack-token",
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b|https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}",
        ),
        provider(
            "stripe-key",
            "secret.stripe-key",
            r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}\b|\bwhsec_[A-Za-z0-9]{20,}\b",
        ),
        provider(
            "anthropic-key",
            "secret.anthropic-key",
            r"\bsk-ant-(?:api\d\d-|admin\d\d-)?[A-Za-z0-9_-]{20,}",
        ),
        provider(
            "openai-key",
            "secret.openai-key",
            r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}",
        ),
        provider(
            "google-api-key",
            "secret.google-api-key",
            r"\bAIza[0-9A-Za-z_-]{35}\b|\bya29\.[0-9A-Za-z_-]{20,}",
        ),
        provider(
            "azure-key",
            "secret.azure-key",
            r"(?i)\bAccountKey=[A-Za-z0-9+/=]{40,}|\bsig=[A-Za-z0-9%]{30,}",
        ),
        provider(
            "sendgrid-key",
            "secret.sendgrid-key",
            r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b",
        ),
        provider("twilio-key", "secret.twilio-key", r"\bSK[0-9a-fA-F]{32}\b"),
        provider(
            "mailgun-key",
            "secret.mailgun-key",
            r"\bkey-[0-9a-zA-Z]{32}\b",
        ),
        provider("npm-token", "secret.npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
        provider(
            "pypi-token",
            "secret.pypi-token",
            r"\bpypi-[A-Za-z0-9_-]{50,}",
        ),
        provider(
            "huggingface-token",
            "secret.huggingface-token",
            r"\bhf_[A-Za-z0-9]{30,}\b",
        ),
        provider(
            "digitalocean-token",
            "secret.digitalocean-token",
            r"\bdo[opr]_v1_[a-f0-9]{64}\b",
        ),
        provider(
            "shopify-token",
            "secret.shopify-token",
            r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b",
        ),
        provider(
            "telegram-token",
            "secret.telegram-token",
            r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b",
        ),
        provider(
            "discord-webhook",
            "secret.discord-webhook",
            r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+",
        ),
        provider(
            "vault-token",
            "secret.vault-token",
            r"\bhv[sb]\.[A-Za-z0-9_-]{24,}",
        ),
        provider(
            "databricks-token",
            "secret.databricks-token",
            r"\bdapi[a-f0-9]{32}(?:-\d)?\b",
        ),
        provider(
            "age-secret-key",
            "secret.age-secret-key",
            r"\bAGE-SECRET-KEY-1[0-9A-Z]{50,}\b",
        ),
        provider(
            "grafana-token",
            "secret.grafana-token",
            r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b|\bglc_[A-Za-z0-9+/]{32,}",
        ),
        provider(
            "doppler-token",
            "secret.doppler-token",
            r"\bdp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9_.-]{40,}",
        ),
        provider(
            "postman-key",
            "secret.postman-key",
            r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b",
        ),
        provider(
            "newrelic-key",
            "secret.newrelic-key",
            r"\bNR(?:AK|JS|II)-[A-Za-z0-9]{27}\b|\bNRJS-[a-f0-9]{19}\b|\bNRII-[A-Za-z0-9-]{32}\b",
        ),
        provider(
            "pulumi-token",
            "secret.pulumi-token",
            r"\bpul-[a-f0-9]{40}\b",
        ),
        provider(
            "linear-key",
            "secret.linear-key",
            r"\blin_api_[A-Za-z0-9]{32,}\b",
        ),
        provider(
            "sentry-token",
            "secret.sentry-token",
            r"\bsntry[su]_[A-Za-z0-9_=+/-]{40,}",
        ),
        provider(
            "dropbox-token",
            "secret.dropbox-token",
            r"\bsl\.[A-Za-z0-9_=-]{90,}",
        ),
        provider(
            "supabase-token",
            "secret.supabase-token",
            r"\bsbp_[a-f0-9]{40}\b",
        ),
        provider(
            "planetscale-token",
            "secret.planetscale-token",
            r"\bpscale_(?:tkn|pw|oauth)_[A-Za-z0-9=._-]{32,64}",
        ),
        provider(
            "replicate-token",
            "secret.replicate-token",
            r"\br8_[A-Za-z0-9]{32,40}\b",
        ),
        provider(
            "rubygems-token",
            "secret.rubygems-token",
            r"\brubygems_[a-f0-9]{48}\b",
        ),
        provider(
            "clojars-token",
            "secret.clojars-token",
            r"\bCLOJARS_[a-z0-9]{60}\b",
        ),
        provider(
            "dynatrace-token",
            "secret.dynatrace-token",
            r"\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b",
        ),
        provider(
            "easypost-key",
            "secret.easypost-key",
            r"\bEZ[AT]K[A-Za-z0-9]{40,60}\b",
        ),
        provider(
            "adafruit-key",
            "secret.adafruit-key",
            r"\baio_[A-Za-z0-9]{28}\b",
        ),
        provider(
            "typeform-token",
            "secret.typeform-token",
            r"\btfp_[A-Za-z0-9_.=-]{59}",
        ),
        provider(
            "asana-token",
            "secret.asana-token",
            r"\b\d/\d{16}:[0-9a-f]{32}\b",
        ),
        provider(
            "frameio-token",
            "secret.frameio-token",
            r"\bfio-u-[A-Za-z0-9_=-]{50,70}",
        ),
        provider(
            "flutterwave-key",
            "secret.flutterwave-key",
            r"\bFLW(?:SECK|PUBK)(?:_TEST)?-[a-hA-H0-9]{32}-X\b|\bFLWSECK_TEST-[a-hA-H0-9]{12}\b",
        ),
        provider(
            "infracost-key",
            "secret.infracost-key",
            r"\bico-[A-Za-z0-9]{32}\b",
        ),
        provider(
            "scalingo-token",
            "secret.scalingo-token",
            r"\btk-us-[A-Za-z0-9_-]{40,56}",
        ),
        provider(
            "atlassian-token",
            "secret.atlassian-token",
            r"\bATATT3[A-Za-z0-9_=-]{180,}",
        ),
        provider(
            "duffel-token",
            "secret.duffel-token",
            r"\bduffel_(?:test|live)_[A-Za-z0-9_=-]{43}",
        ),
        provider(
            "terraform-token",
            "secret.terraform-token",
            r"\b[a-z0-9]{14}\.atlasv1\.[a-z0-9_=-]{60,70}",
        ),
        provider(
            "openshift-token",
            "secret.openshift-token",
            r"\bsha256~[A-Za-z0-9_-]{43}\b",
        ),
        provider(
            "prefect-token",
            "secret.prefect-token",
            r"\bpnu_[A-Za-z0-9]{36}\b",
        ),
        provider("readme-key", "secret.readme-key", r"\brdme_[a-z0-9]{70}\b"),
        provider(
            "brevo-key",
            "secret.brevo-key",
            r"\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}\b",
        ),
        provider(
            "shippo-token",
            "secret.shippo-token",
            r"\bshippo_(?:live|test)_[a-f0-9]{40}\b",
        ),
        provider(
            "perplexity-key",
            "secret.perplexity-key",
            r"\bpplx-[A-Za-z0-9]{48}\b",
        ),
        provider("xai-key", "secret.xai-key", r"\bxai-[A-Za-z0-9]{80}\b"),
        provider(
            "onepassword-token",
            "secret.onepassword-token",
            r"\bops_eyJ[A-Za-z0-9+/=]{250,}",
        ),
        provider(
            "onepassword-secret-key",
            "secret.onepassword-secret-key",
            r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b",
        ),
        provider(
            "alibaba-key",
            "secret.alibaba-key",
            r"\bLTAI[A-Za-z0-9]{20}\b",
        ),
        provider(
            "heroku-key",
            "secret.heroku-key",
            r"\bHRKU-AA[0-9a-zA-Z_-]{58}\b",
        ),
        provider(
            "defined-networking-key",
            "secret.defined-networking-key",
            r"\bdnkey-[A-Za-z0-9=_-]{26}-[A-Za-z0-9=_-]{52}",
        ),
        provider(
            "flyio-token",
            "secret.flyio-token",
            r"\bfo1_[\w-]{43}|\bfm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|\bfm2_[A-Za-z0-9+/]{100,}={0,3}",
        ),
        provider(
            "cloudflare-key",
            "secret.cloudflare-key",
            r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}\b",
        ),
        provider(
            "teams-webhook",
            "secret.teams-webhook",
            r"https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9@/-]{40,}",
        ),
        provider(
            "airtable-token",
            "secret.airtable-token",
            r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b",
        ),
        provider(
            "plaid-token",
            "secret.plaid-token",
            r"\baccess-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        ),
        provider(
            "yandex-key",
            "secret.yandex-key",
            r"\bAQVN[A-Za-z0-9_-]{35,38}\b|\bt1\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]{86}={0,2}",
        ),
        Detector {
            group: 1,
            ..provider(
                "sidekiq-secret",
                "secret.sidekiq-secret",
                r#"(?i)\bBUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM\b["']?\s*[:=]\s*["']?([a-f0-9]{8}:[a-f0-9]{8})\b"#,
            )
        },
        provider(
            "jwt",
            "secret.jwt",
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        ),
        // A JWT encoded once more in base64 (`eyJ` becomes `ZXlK`).
        provider("jwt", "secret.jwt", r"\bZXlK[A-Za-z0-9/_+-]{60,}={0,2}"),
        Detector {
            group: 1,
            accept: Some(|_, caps| high_entropy(caps.get(1).map_or("", |m| m.as_str()))),
            ..provider(
                "bearer-token",
                "secret.bearer-token",
                r"(?i)\b(?:bearer|token)\s+([A-Za-z0-9_\-.=+/]{24,})",
            )
        },
    ];
    d.push(Detector {
        group: 1,
        accept: Some(|_, caps| !is_placeholder(caps.get(1).map_or("", |m| m.as_str()))),
        ..detector(
            kind!(
                "connection-string",
                "a connection string with its password: it opens the database or service to anyone"
            ),
            r"(?i)\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@]{1,64}:([^\s@/]{1,128})@[\w.-]+",
        )
    });
    d.push(Detector {
        group: 0,
        accept: Some(|text, caps| {
            let m = caps.get(0).expect("match");
            let s = super::text::sentence(text, &m).to_lowercase();
            card_ok(m.as_str())
                && ![
                    "test card",
                    "test number",
                    "test credit card",
                    "testing",
                    "sandbox",
                ]
                .iter()
                .any(|p| s.contains(p))
        }),
        // `card_ok` takes 13 ASCII digits or more; `\d` is any Unicode digit, which makes
        // the pattern slow to compile and worth not compiling for the many texts without.
        needs: Some(|text| text.bytes().filter(u8::is_ascii_digit).count() >= 13),
        ..detector(
            kind!(
                "card-number",
                "a payment card number (it passes the Luhn check)"
            ),
            r"\b\d(?:[ -]?\d){12,18}\b",
        )
    });
    d.push(stated_password(r#"(?i)\b(?:password|passwd|passphrase|pwd|passcode|pin(?:\s+code)?|door\s+code|gate\s+code|alarm\s+code|safe\s+code|lock\s+code|security\s+code|cvv|cvc|secret|api[ _-]?key|access[ _-]?key|secret[ _-]?key|token|access[ _-]?token|auth[ _-]?token|credentials?|login)\b(?:\s+(?:for|of|to|on|at)\s+[^.!?\n:=]{1,40}?)?\s*(?:\bis\b|\bwas\b|\bare\b|:|=|->|\bis\s+set\s+to\b|\bhas\s+been\s+(?:set|changed)\s+to\b|\bwas\s+changed\s+to\b|\bis\s+now\b|\bnow\s+is\b)\s*["'`]?([^\s"'`]{4,})"#));
    // The same in French, German and Spanish: "mon mot de passe est ...", "das Passwort lautet
    // ...", "la contraseña es ...", "die PIN für meine Karte lautet ...".
    d.push(stated_password(r#"(?i)\b(?:mot\s+de\s+passe|code\s+secret|code\s+pin|passwort|kennwort|geheimzahl|pin(?:-?code|-nummer)?|contrase(?:ñ|n)a|clave\s+de\s+acceso|c[óo]digo\s+pin)\b(?:\s+(?:pour|de|du|des|für|zum|zur|vom|del|de\s+la|para)\s+[^.!?\n:=]{1,40}?)?\s*(?:\best\b|\bist\b|\blautet\b|\bes\b|:|=)\s*["'`«]?\s*([^\s"'`»]{4,})"#));
    // And in Portuguese, Dutch, Polish, Swedish, Danish, Norwegian, Finnish, Czech, Romanian,
    // Turkish, Indonesian and Russian: "a senha do roteador é ...", "het wachtwoord van de NAS
    // is ...", "hasło do serwera to ...", "sunucunun şifresi ..." (Turkish puts the value
    // right after the word).
    d.push(stated_password(r#"(?i)\b(?:senha|wachtwoord|has[łl]o|l[öo]senord(?:et)?|adgangskode(?:n)?|passord(?:et)?|salasana|heslo|parol[aăe]|kata\s+sandi|пароль)\b(?:\s+[^\s.!?\n:=]{1,30}){0,4}?\s*(?:\b(?:é|is|to|är|er|on|je|este|adalah|ialah)\b|:|=)\s*["'`«„“]?\s*([^\s"'`»“”]{4,})"#));
    d.push(stated_password(
        r#"(?i)\b[şs]ifre(?:si|m|n)?\b\s*[:=]?\s*["'`]?([^\s"'`]{4,})"#,
    ));
    // And in Japanese, Korean and Chinese: "パスワードは ...", "비밀번호는 ...", "密码是 ...".
    d.push(stated_password(r#"(?:パスワード|暗証番号|비밀번호|암호|密码|密碼|口令)\s*(?:は|が|는|은|是|为|為|:|：|=)\s*[「"'`]?\s*([^\s「」"'`。、，]{4,})"#));
    d.push(Detector {
        group: 1,
        accept: Some(|_, caps| looks_secret(caps.get(1).map_or("", |m| m.as_str()), false)),
        ..detector(
            kind!("password", "a password or code stated in plain words"),
            r"(?i)\b(?:login|logins|credentials?|username\s+(?:and|&|/)\s+password|user\s*/\s*pass(?:word)?)\b[^.!?\n:=]{0,40}?(?:\bis\b|\bare\b|:|=)\s*[^\s/,;:]+\s*(?:/|:|,|\band\b)\s*([^\s,;]{4,})",
        )
    });
    d.push(Detector {
        group: 1,
        accept: Some(|text, caps| {
            let m = caps.get(0).expect("match");
            let s = super::text::sentence(text, &m).to_lowercase();
            let before = &text[super::text::sentence_start(text, m.start())..m.start()].to_lowercase();
            let kind_word = before.split_whitespace().last().unwrap_or("");
            ![
                "area", "zip", "postal", "post", "error", "status", "exit", "return", "country",
                "promo", "discount", "coupon", "product", "tracking", "order", "reference",
                "source", "bar", "qr", "dial", "language", "iso", "http", "response", "color",
                "colour", "hex", "sort", "branch", "tax", "swift", "course", "class", "room",
            ]
            .contains(&kind_word)
                && [
                    "door", "alarm", "safe", "lock", "gate", "garage", "vault", "disarm", "unlock",
                    "open", "access", "entry", "building", "office", "house", "locker", "padlock",
                    "bike", "keypad", "phone", "sim", "card", "account", "login", "security",
                ]
                .iter()
                .any(|w| s.contains(w))
        }),
        ..detector(
            kind!("password", "a password or code stated in plain words"),
            r"(?i)\b(?:code|combination|combo|pin)\b(?:\s+(?:for|of|to|on|at)\s+[^.!?\n:=]{1,40}?)?\s*(?:\bis\b|\bwas\b|:|=|\bis\s+now\b)\s*(\d{4,8}#?)\b",
        )
    });
    // A wallet's recovery phrase: twelve words or more of BIP-39's list in a row (numbered or
    // not), which give whoever reads them the wallet. Prose almost never has twelve such
    // words in a row: the list has no "a", "the", "to", "of" or "is".
    d.push(Detector {
        group: 0,
        accept: Some(|_, caps| recovery_phrase(caps.get(0).map_or("", |m| m.as_str()))),
        // Only a text that holds such a run is searched, so the pattern is compiled for
        // next to no text.
        needs: Some(recovery_phrase),
        ..detector(
            kind!(
                "recovery-phrase",
                "a wallet's recovery (seed) phrase: it gives whoever reads it the wallet"
            ),
            r"(?i-u)\b[a-z]{3,8}(?:(?:[\s,;-]|[0-9]{1,2}[.):])+[a-z]{3,8}){11,}\b",
        )
    });
    d.push(Detector {
        group: 2,
        accept: Some(|_, caps| assigned_secret(caps.get(2).map_or("", |m| m.as_str()))),
        ..detector(
            kind!("credential-assignment", "a password or key assigned in configuration"),
            r#"(?i)\b([a-z0-9_.-]*(?:secret|token|passw(?:or)?d|pwd|api_?key|access_?key|private_?key|client_?secret|auth_?key|credentials?)[a-z0-9_.-]*)["']?\s*(?::|=>?)\s*["']?([^\s"'`,;]{6,})"#,
        )
    });
    // Any other setting named `..._KEY` (`DATADOG_APP_KEY`, `license-key`, `signing.key`):
    // a key only when its value looks random, and not a public key or a key of a table.
    d.push(Detector {
        group: 2,
        accept: Some(|_, caps| {
            let name = caps.get(1).map_or("", |m| m.as_str()).to_lowercase();
            !NOT_SECRET_KEYS.iter().any(|w| name.contains(w))
                && high_entropy_from(caps.get(2).map_or("", |m| m.as_str()), 16)
        }),
        ..detector(
            kind!("credential-assignment", "a password or key assigned in configuration"),
            r#"(?i)\b([a-z0-9_.-]*[a-z0-9][_.-]key(?:string)?)["']?\s*(?::|=>?)\s*["']?([A-Za-z0-9_\-+/=.]{16,})"#,
        )
    });
    // A password in a NuGet.Config (`<add key="ClearTextPassword" value="..." />`).
    d.push(Detector {
        group: 1,
        accept: Some(|_, caps| !is_placeholder(caps.get(1).map_or("", |m| m.as_str()))),
        ..detector(
            kind!(
                "credential-assignment",
                "a password or key assigned in configuration"
            ),
            r#"(?i)<add\s+key="(?:ClearText)?Password"\s*value="([^"]{8,})"\s*/>"#,
        )
    });
    // The password of a user given to curl (`curl -u user:pass`, `--user "user:pass"`).
    d.push(Detector {
        group: 2,
        accept: Some(|_, caps| {
            let password = caps.get(2).map_or("", |m| m.as_str());
            !password.starts_with('$') && looks_secret(password, false)
        }),
        ..detector(
            kind!("password", "a password or code stated in plain words"),
            r#"\bcurl\b[^\n]*?\s(?:-u|--user)(?:=|\s{1,5})["']?([^\s"':]{3,}):([^\s"']{3,})"#,
        )
    });
    d.push(Detector {
        group: 1,
        accept: Some(|_, caps| high_entropy(caps.get(1).map_or("", |m| m.as_str()))),
        ..detector(
            kind!("generic", "a long random-looking string next to the word key, token or secret"),
            r"(?i)\b(?:key|keystring|token|secret|password|credential|apikey|api-key|bearer|signing)s?\b[^\n]{0,24}?\b([A-Za-z0-9_\-+/=]{24,})",
        )
    });
    d
});

/// Returns whether the value assigned to a setting named like a secret is one: it looks secret
/// ([`looks_secret`]) and is not a reference to one kept elsewhere: a constant or an
/// environment variable's name (`APPLE_CLIENT_SECRET`, `$TOKEN`), a path (`/run/secrets/db`,
/// `./credentials.json`) or code (`[word_tokenize(body) for ...`).
fn assigned_secret(v: &str) -> bool {
    let v = trim_value(v);
    let constant = v.contains('_')
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let path = v.starts_with(['/', '~']) || v.starts_with("./") || v.starts_with("../");
    let code = v.starts_with(['[', '(', '{', '$', '%', '<']) || calls_a_function(v);
    !constant && !path && !code && looks_secret(v, false)
}

/// Returns whether `v` holds a function call: a name of three or more lower-case letters,
/// `_` or `.` right before a `(` (`word_tokenize(body)`, `os.getenv("TOKEN")`).
fn calls_a_function(v: &str) -> bool {
    v.match_indices('(').any(|(i, _)| {
        v[..i]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == '.')
            .count()
            >= 3
    })
}

/// Words in the name of a `..._key` setting whose value is not a secret: a public key, or the
/// key of a table, a cache or a file.
const NOT_SECRET_KEYS: &[&str] = &[
    "pub",
    "primary",
    "foreign",
    "sort",
    "partition",
    "cache",
    "idempotency",
    "object",
    "bucket",
    "file",
    "path",
    "hash",
    "lookup",
    "index",
    "routing",
    "dedup",
    "map",
    "shard",
    "row",
    "group",
    "host",
];

/// Returns every secret kind.
pub(crate) fn kinds() -> Vec<Kind> {
    DETECTORS.iter().map(|d| d.kind).collect()
}

/// Returns every secret pattern with its rule id.
#[cfg(test)]
pub(crate) fn patterns() -> Vec<(&'static str, &'static str)> {
    DETECTORS
        .iter()
        .map(|d| (d.kind.rule, d.pattern.source()))
        .collect()
}

/// Compiles every secret pattern (a test that they all are valid).
#[cfg(test)]
pub(crate) fn compile_all() {
    for d in DETECTORS.iter() {
        d.pattern.regex();
    }
}

/// Returns the spans of secrets in `text`, whose literals are `present`, with their kinds
/// (spans may overlap).
pub(crate) fn find(text: &str, present: &Present) -> Vec<(Span, Kind)> {
    let mut out = Vec::new();
    for d in DETECTORS
        .iter()
        .filter(|d| d.needs.is_none_or(|needs| needs(text)))
    {
        let Some(re) = d.pattern.searcher(text, present) else {
            continue;
        };
        for caps in re.captures_iter(text) {
            if d.accept.is_some_and(|ok| !ok(text, &caps)) {
                continue;
            }
            if let Some(m) = caps.get(d.group) {
                let value = trim_value(m.as_str());
                out.push((
                    Span {
                        start: m.start(),
                        end: m.start() + value.len(),
                    },
                    d.kind,
                ));
            }
        }
    }
    out
}

/// Drops sentence punctuation that follows a value.
fn trim_value(v: &str) -> &str {
    if v.starts_with("-----BEGIN") || v.starts_with("PuTTY") {
        return v;
    }
    v.trim_end_matches(['.', ',', ';', ')', ']', '}', '>', ':'])
}

/// Returns true for values that stand for a secret without being one.
fn is_placeholder(v: &str) -> bool {
    let v = trim_value(v);
    let lower = v.to_ascii_lowercase();
    v.starts_with('$')
        || v.starts_with('<')
        || v.starts_with('{')
        || v.starts_with('%')
        || v.starts_with("[REDACTED")
        || v.chars()
            .all(|c| c == '*' || c == 'x' || c == 'X' || c == '.' || c == '•' || c == '…')
        || [
            "password",
            "pass",
            "passwd",
            "secret",
            "changeme",
            "example",
            "placeholder",
            "redacted",
            "hidden",
            "none",
            "null",
            "your_password",
            "yourpassword",
            "mypassword",
            "user",
            "pwd",
            "token",
            "xxx",
            "todo",
            "tbd",
        ]
        .contains(&lower.as_str())
        || lower.starts_with("your-")
        || lower.starts_with("your_")
        || lower.starts_with("env:")
        || lower.starts_with("vault:")
        || lower.starts_with("op://")
}

/// The fewest words of a recovery phrase (BIP-39's shortest).
const RECOVERY_WORDS: usize = 12;

/// The fewest different words among [`RECOVERY_WORDS`] of a phrase: twelve words drawn from
/// 2,048 repeat one at most, almost always, where a repeated title ("very long title very long
/// title ...") repeats three.
const RECOVERY_DISTINCT: usize = 10;

/// Whether `run` holds [`RECOVERY_WORDS`] or more words of BIP-39's English list in a row, at
/// least [`RECOVERY_DISTINCT`] of them different.
///
/// ```text
/// "hedgehog velvet orbit canyon fiscal noble aware ribbon lunar tribe expire salad" -> true
/// ```
fn recovery_phrase(run: &str) -> bool {
    let mut streak: Vec<u16> = Vec::new();
    let mut lower = String::new();
    for word in run
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
    {
        lower.clear();
        lower.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        // The list's words are 3 to 8 letters long: a longer word needs no lookup.
        let found = (3..=8)
            .contains(&word.len())
            .then(|| bip39::Language::English.find_word(&lower))
            .flatten();
        let Some(index) = found else {
            streak.clear();
            continue;
        };
        streak.push(index);
        if streak.len() >= RECOVERY_WORDS {
            let mut last: Vec<u16> = streak[streak.len() - RECOVERY_WORDS..].to_vec();
            last.sort_unstable();
            last.dedup();
            if last.len() >= RECOVERY_DISTINCT {
                return true;
            }
        }
    }
    false
}

/// Returns true if `v` looks like a real secret: long enough, not a placeholder, and with a
/// digit or symbol, or mixed case inside the word. With `short_digits`, four or more digits
/// are enough (PINs and door codes).
fn looks_secret(v: &str, short_digits: bool) -> bool {
    let v = trim_value(v);
    if is_placeholder(v) {
        return false;
    }
    let digits = v.chars().filter(|c| c.is_ascii_digit()).count();
    if short_digits
        && digits >= 4
        && v.chars()
            .all(|c| c.is_ascii_digit() || c == '#' || c == '*')
    {
        return true;
    }
    if v.chars().count() < 6 {
        return false;
    }
    // Words that follow "password is" in ordinary sentences.
    let lower = v.to_lowercase();
    if [
        "required",
        "optional",
        "stored",
        "managed",
        "rotated",
        "expired",
        "changed",
        "incorrect",
        "correct",
        "invalid",
        "missing",
        "protected",
        "encrypted",
        "hashed",
        "shared",
        "visible",
        "hidden",
        "available",
        "unknown",
        "mandatory",
        "needed",
        "enabled",
        "disabled",
        "written",
        "printed",
        "generated",
        "provided",
        "different",
    ]
    .contains(&lower.trim_end_matches(['.', ',', '!']))
    {
        return false;
    }
    let symbol = v
        .trim_end_matches(['!', '?'])
        .chars()
        .any(|c| !c.is_alphanumeric())
        || v.ends_with('!') && v.len() > 7;
    let inner_upper =
        v.chars().skip(1).any(|c| c.is_uppercase()) && v.chars().any(|c| c.is_lowercase());
    digits > 0 && v.chars().any(|c| c.is_alphabetic())
        || symbol && v.chars().any(|c| c.is_alphanumeric())
        || inner_upper
        || digits >= 6
}

fn prose_secret(text: &str, caps: &Captures<'_>) -> bool {
    let whole = caps.get(0).expect("match").as_str().to_lowercase();
    let value = caps.get(1).map_or("", |m| m.as_str());
    // A URL or path names where a secret is kept, and a call fetches it: neither is the secret.
    if value.contains("://")
        || value.starts_with('/')
        || value.starts_with("~/")
        || calls_a_function(value)
    {
        return false;
    }
    // Where it is kept ("パスワードは 1Password に保存", "the password is 1Password's").
    let keeper = value.to_lowercase();
    let keeper = keeper.trim_end_matches(['.', ',']);
    let keeper = keeper.strip_suffix("'s").unwrap_or(keeper);
    if [
        "1password",
        "bitwarden",
        "lastpass",
        "keepass",
        "keepassxc",
        "dashlane",
    ]
    .contains(&keeper)
    {
        return false;
    }
    let short = ["pin", "code", "cvv", "cvc", "passcode"]
        .iter()
        .any(|k| whole.contains(k));
    let _ = text;
    looks_secret(value, short)
}

/// Returns true for a string with the spread of characters of a generated secret.
fn high_entropy(v: &str) -> bool {
    high_entropy_from(v, 24)
}

/// [`high_entropy`] for values of at least `min_len` characters.
fn high_entropy_from(v: &str, min_len: usize) -> bool {
    let v = trim_value(v);
    if v.len() < min_len || is_placeholder(v) {
        return false;
    }
    let classes = [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    // All-lowercase words joined by `-` or `_` are names, not secrets.
    if classes < 2 {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for c in v.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = v.chars().count() as f64;
    let entropy: f64 = counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.5
}

/// Returns true if the digits of `number` (separators ignored) pass the Luhn checksum.
///
/// ```
/// assert!(memdir::guard::luhn_valid("4111 1111 1111 1111"));
/// assert!(!memdir::guard::luhn_valid("4111 1111 1111 1112"));
/// ```
pub fn luhn_valid(number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() < 2 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Returns true for a card number: 13 to 19 digits with a card network's prefix, consistent
/// separators, not one repeated digit, passing Luhn.
fn card_ok(candidate: &str) -> bool {
    let digits: String = candidate.chars().filter(|c| c.is_ascii_digit()).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    // Separators, if any, are all of one kind.
    if candidate.contains(' ') && candidate.contains('-') {
        return false;
    }
    if digits.chars().all(|c| c == digits.as_bytes()[0] as char) {
        return false;
    }
    let p2: u32 = digits[..2].parse().unwrap_or(0);
    let p4: u32 = digits[..4].parse().unwrap_or(0);
    let network = digits.starts_with('4')
        || (51..=55).contains(&p2)
        || (2221..=2720).contains(&p4)
        || p2 == 34
        || p2 == 37
        || digits.starts_with("6011")
        || digits.starts_with("65")
        || (644..=649).contains(&(p4 / 10))
        || p2 == 35
        || p2 == 36
        || p2 == 38
        || p2 == 30
        || digits.starts_with("62")
        || digits.starts_with("50")
        || (56..=69).contains(&p2);
    network && luhn_valid(&digits)
}

#[cfg(test)]
mod tests {
    use crate::guard::Guard;

    fn check(text: &str) -> (Vec<String>, String) {
        let c = Guard::default().check(text);
        (c.flags.into_iter().map(|f| f.rule).collect(), c.redacted)
    }

    #[test]
    fn finds_and_redacts_secrets() {
        for (text, rule, redacted) in [
            (
                "My Stripe secret key is sk_live_51HqLyjWDarjtT1zdp7dcXYZabcdefghijklmnop.",
                "secret.stripe-key",
                "My Stripe secret key is [REDACTED:stripe-key].",
            ),
            (
                "GitHub token: ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
                "secret.github-token",
                "GitHub token: [REDACTED:github-token]",
            ),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "secret.aws-secret-key",
                "aws_secret_access_key = [REDACTED:aws-secret-key]",
            ),
            (
                "Use xoxb-123456789012-abcdefghijABCD for the bot.",
                "secret.slack-token",
                "Use [REDACTED:slack-token] for the bot.",
            ),
            (
                "OpenAI: sk-proj-abcdefghijklmnopqrstuvwxyz012345",
                "secret.openai-key",
                "OpenAI: [REDACTED:openai-key]",
            ),
            (
                "Claude key sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
                "secret.anthropic-key",
                "Claude key [REDACTED:anthropic-key]",
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----\nkept",
                "secret.private-key",
                "[REDACTED:private-key]\nkept",
            ),
            (
                "DB is postgres://app:Tr0ub4dor@db.internal:5432/main",
                "secret.connection-string",
                "DB is postgres://app:[REDACTED:connection-string]@db.internal:5432/main",
            ),
            (
                "Card on file: 4111 1111 1111 1111, expires 04/29.",
                "secret.card-number",
                "Card on file: [REDACTED:card-number], expires 04/29.",
            ),
            (
                "The root password for the build server is Winter2026!",
                "secret.password",
                "The root password for the build server is [REDACTED:password]",
            ),
            (
                "wifi password: kittens-and-42",
                "secret.password",
                "wifi password: [REDACTED:password]",
            ),
            (
                "The garage door code is 4821.",
                "secret.password",
                "The garage door code is [REDACTED:password].",
            ),
            (
                "Mein Passwort für das Firmenkonto lautet Sommer#2031",
                "secret.password",
                "Mein Passwort für das Firmenkonto lautet [REDACTED:password]",
            ),
            (
                "Le mot de passe du routeur est Lune-7789",
                "secret.password",
                "Le mot de passe du routeur est [REDACTED:password]",
            ),
            (
                "DATABASE_PASSWORD=s3cr3t-Pa55",
                "secret.credential-assignment",
                "DATABASE_PASSWORD=[REDACTED:credential-assignment]",
            ),
            (
                "signing key 9fQ2xL7vK1pZ8rT4mN6bW3yH5cJ0dS",
                "secret.generic",
                "signing key [REDACTED:generic]",
            ),
        ] {
            let (rules, out) = check(text);
            assert!(
                rules.iter().any(|r| r == rule),
                "{text:?}: expected {rule}, got {rules:?}"
            );
            assert_eq!(out, redacted, "{text:?}");
        }
    }

    /// The keys of more providers, after gitleaks' rules: each found by its own kind.
    #[test]
    fn finds_the_keys_of_more_providers() {
        let samples = [
            (
                "dropbox-token",
                format!("sl.{}", "Bq3vZ9yW2uT5rP8o".repeat(6)),
            ),
            ("supabase-token", format!("sbp_{}", "4f8a2b9c1d".repeat(4))),
            (
                "planetscale-token",
                format!("pscale_tkn_{}", "Zq7xY2wV5uT8sR1q".repeat(2)),
            ),
            (
                "replicate-token",
                format!("r8_{}", "Zq7xY2wV5uT8sR1qP".repeat(2)),
            ),
            (
                "rubygems-token",
                format!("rubygems_{}", "4f8a2b9c1d3e".repeat(4)),
            ),
            (
                "clojars-token",
                format!("CLOJARS_{}", "4f8a2b9c1d3e".repeat(5)),
            ),
            (
                "dynatrace-token",
                format!(
                    "dt0c01.{}.{}",
                    "ST2EY72KQINMH574".repeat(2)[..24].to_owned(),
                    "G3DFPBEJYMODIDAE".repeat(4)
                ),
            ),
            (
                "easypost-key",
                format!("EZAK{}", "4f8a2b9c1d3eZq".repeat(4)[..54].to_owned()),
            ),
            (
                "adafruit-key",
                format!("aio_{}", "Zq7xY2wV5uT8sR".repeat(2)),
            ),
            (
                "typeform-token",
                format!(
                    "tfp_{}",
                    "Zq7xY2wV5uT8sR1qP4oN7mL0kJ3hG6fE9dC2bA5zQxWvUt8sR1qP4oN7mL0"
                ),
            ),
            (
                "asana-token",
                "1/1204938475610293:8f7e6d5c4b3a2918f7e6d5c4b3a29180".to_owned(),
            ),
            (
                "frameio-token",
                format!("fio-u-{}", "Zq7xY2wV5uT8sR1q".repeat(4)),
            ),
            (
                "flutterwave-key",
                format!("FLWSECK_TEST-{}-X", "4f8a2b9c".repeat(4)),
            ),
            (
                "infracost-key",
                format!("ico-{}", "Zq7xY2wV5uT8sR1q".repeat(2)),
            ),
            (
                "scalingo-token",
                format!("tk-us-{}", "Zq7xY2wV5uT8sR1q".repeat(3)),
            ),
            (
                "atlassian-token",
                format!("ATATT3{}", "xFfGF0T2Zq7xY2wV".repeat(12)),
            ),
            (
                "duffel-token",
                format!(
                    "duffel_test_{}",
                    "Zq7xY2wV5uT8sR1qP4oN7mL0kJ3hG6fE9dC2bA5zQxW"
                ),
            ),
            (
                "terraform-token",
                format!("4f8a2b9c1d3e5f.atlasv1.{}", "zq7xy2wv5ut8sr1q".repeat(4)),
            ),
            (
                "openshift-token",
                format!("sha256~{}", "Zq7xY2wV5uT8sR1qP4oN7mL0kJ3hG6fE9dC2bA5zQxW"),
            ),
            (
                "prefect-token",
                format!("pnu_{}", "Zq7xY2wV5uT8sR1qP4".repeat(2)),
            ),
            (
                "readme-key",
                format!(
                    "rdme_{}",
                    "zq7xy2wv5ut8sr1qp4on7ml0kj3hg6fe9dc2ba5".repeat(2)[..70].to_owned()
                ),
            ),
            (
                "brevo-key",
                format!(
                    "xkeysib-{}-{}",
                    "4f8a2b9c1d3e5f7a".repeat(4),
                    "Zq7xY2wV5uT8sR1q"
                ),
            ),
            (
                "shippo-token",
                format!("shippo_live_{}", "4f8a2b9c1d".repeat(4)),
            ),
            (
                "perplexity-key",
                format!("pplx-{}", "Zq7xY2wV5uT8sR1q".repeat(3)),
            ),
            ("xai-key", format!("xai-{}", "Zq7xY2wV5uT8sR1q".repeat(5))),
            (
                "onepassword-token",
                format!("ops_eyJ{}", "Zq7xY2wV5uT8sR1q".repeat(16)),
            ),
            (
                "onepassword-secret-key",
                "A3-4EK1OJ-UNM55Q-2E2TE-V2AJ9-SOL1R-0E0VM".to_owned(),
            ),
            ("alibaba-key", "LTAI5tsLxNNMd03vELtDuL4c".to_owned()),
            (
                "heroku-key",
                format!("HRKU-AA{}", "dibpyMV_CjXYj8n6Ez".repeat(4)[..58].to_owned()),
            ),
            (
                "defined-networking-key",
                format!(
                    "dnkey-{}-{}",
                    "YA7ZICY34CRJ6J1CMYJ1TGDQBX",
                    "9Z7BZL7RN3NHI0QQY8YTT6TSUZ".repeat(2)
                ),
            ),
            (
                "flyio-token",
                format!("fo1_{}", "Zq7xY2wV5uT8sR1qP4oN7mL0kJ3hG6fE9dC2bA5zQxW"),
            ),
            (
                "cloudflare-key",
                format!(
                    "v1.0-{}-{}",
                    "29068bbe638bbea06d59f3c2",
                    "5173da69540f8c01".repeat(10)[..146].to_owned()
                ),
            ),
            (
                "teams-webhook",
                "https://acme.webhook.office.com/webhookb2/37c764a0-e7a0-4e50-aee9-25571d90cc9a@352e36f9-748f-49c8-9517-a583915b360f/IncomingWebhook/8f2a9c4e1b7d3f6a8f2a9c4e1b7d3f6a/0d984802-8bd9-426c-bb4d-b7acf5cc0ce5".to_owned(),
            ),
            (
                "airtable-token",
                format!("pats8HCLbj6B6GmPh.{}", "8fab28dccf95e97e".repeat(4)),
            ),
            (
                "plaid-token",
                "access-sandbox-f94899eb-e785-428a-af0e-63daf02a531c".to_owned(),
            ),
            (
                "yandex-key",
                "AQVN9A9X8IITapb8A2SRpuiMkUUpqnsLNVb6FWHT".to_owned(),
            ),
        ];
        for (label, secret) in samples {
            let text = format!("The {label} for the deploy job is {secret} (rotate it monthly).");
            let (rules, out) = check(&text);
            assert!(
                rules.iter().any(|r| *r == format!("secret.{label}")),
                "{text:?}: expected secret.{label}, got {rules:?}"
            );
            assert_eq!(
                out,
                format!(
                    "The {label} for the deploy job is [REDACTED:{label}] (rotate it monthly)."
                ),
            );
        }
    }

    /// A secret assigned in a JSON, YAML, PHP, Ruby or env file, or given on a command line,
    /// whatever its provider: the value alone is redacted.
    #[test]
    fn finds_secrets_assigned_in_configuration() {
        for (text, rule, redacted) in [
            (
                r#"{"api_key": "f3a9c2e7b1d84a6f9c0e2b7d5a1c8e4f"}"#,
                "secret.credential-assignment",
                r#"{"api_key": "[REDACTED:credential-assignment]"}"#,
            ),
            (
                "'secret_key' => 'q8Zr2LmX7pWc4Vn1',",
                "secret.credential-assignment",
                "'secret_key' => '[REDACTED:credential-assignment]',",
            ),
            (
                r#"DATADOG_APP_KEY="32870d2a4a5df58a24f3f39c8186206ff94c8830""#,
                "secret.credential-assignment",
                r#"DATADOG_APP_KEY="[REDACTED:credential-assignment]""#,
            ),
            (
                r#"<add key="ClearTextPassword" value="dkrySlL2L6*3NWFv" />"#,
                "secret.credential-assignment",
                r#"<add key="ClearTextPassword" value="[REDACTED:credential-assignment]" />"#,
            ),
            (
                "Fetch it with curl -u reporting:WCb6Dq.AbrhSGe https://exports.example.com/a.csv",
                "secret.password",
                "Fetch it with curl -u reporting:[REDACTED:password] https://exports.example.com/a.csv",
            ),
            (
                "BUNDLE_ENTERPRISE__CONTRIBSYS__COM=fa2624c9:7168263b",
                "secret.sidekiq-secret",
                "BUNDLE_ENTERPRISE__CONTRIBSYS__COM=[REDACTED:sidekiq-secret]",
            ),
        ] {
            let (rules, out) = check(text);
            assert!(rules.iter().any(|r| r == rule), "{text:?}: {rules:?}");
            assert_eq!(out, redacted);
        }
        // A JWT encoded in base64 once more.
        let (rules, _) = check(&format!(
            "WEBHOOK_JWT_B64='ZXlKaGJHY2lPaUpJVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5{}'",
            "LmV5SnpkV0lpT2lJNU5".repeat(3)
        ));
        assert!(rules.iter().any(|r| r == "secret.jwt"), "{rules:?}");
    }

    /// A wallet's recovery phrase, however it is laid out, is held back whole; twelve long
    /// words of prose are not a phrase, nor is a shorter run of the list's words.
    #[test]
    fn finds_a_wallet_recovery_phrase() {
        for text in [
            "My wallet recovery words, in order: hedgehog velvet orbit canyon fiscal noble aware ribbon lunar tribe expire salad.",
            "seed: 1. hedgehog 2. velvet 3. orbit 4. canyon 5. fiscal 6. noble 7. aware 8. ribbon 9. lunar 10. tribe 11. expire 12. salad",
            "Ledger backup - Hedgehog, Velvet, Orbit, Canyon, Fiscal, Noble, Aware, Ribbon, Lunar, Tribe, Expire, Salad",
        ] {
            let (rules, out) = check(text);
            assert!(
                rules.iter().any(|r| r == "secret.recovery-phrase"),
                "{text:?}: {rules:?}"
            );
            assert!(!out.contains("velvet") && !out.contains("Velvet"), "{out}");
        }
        for text in [
            "Write the recovery phrase on paper, keep it in the safe and never type it into a website.",
            "Remember these words: hedgehog velvet orbit canyon fiscal noble aware ribbon lunar tribe.",
            &"very long title ".repeat(20),
            "Quarterly planning covers budget forecasts, hiring needs, office moves, vendor renewals, travel policy updates and team offsites.",
        ] {
            let (rules, _) = check(text);
            assert!(
                !rules.iter().any(|r| r == "secret.recovery-phrase"),
                "{text:?}: {rules:?}"
            );
        }
    }

    /// A password stated in a sentence in another language: the value alone is redacted.
    #[test]
    fn finds_passwords_stated_in_other_languages() {
        for (text, secret) in [
            ("A senha do roteador é Cafe2024#", "Cafe2024#"),
            ("Die PIN für meine Sparkassen-Karte lautet 8305.", "8305"),
            ("Le code PIN de ma carte est 8305.", "8305"),
            ("El PIN de la tarjeta es 8305.", "8305"),
            ("Het wachtwoord van de NAS is Zomer2025!", "Zomer2025!"),
            ("Hasło do serwera to Zima2026!", "Zima2026!"),
            ("Lösenordet till routern är Sommar2025!", "Sommar2025!"),
            ("Sunucunun şifresi Kis2026! olarak ayarlandı.", "Kis2026!"),
            ("Parola contului de admin este Iarna2026!", "Iarna2026!"),
            ("Heslo k serveru je Zima2026!", "Zima2026!"),
            ("Kata sandi wifi kantor adalah Kopi2026!", "Kopi2026!"),
            ("Пароль от сервера: Zima2026!", "Zima2026!"),
            ("サーバーのパスワードは Fuyu2026! です。", "Fuyu2026!"),
            ("서버 비밀번호는 Gyeoul2026! 입니다.", "Gyeoul2026!"),
            ("服务器的密码是 Dongtian2026!", "Dongtian2026!"),
        ] {
            let (rules, out) = check(text);
            assert!(
                rules.iter().any(|r| r == "secret.password"),
                "{text:?}: {rules:?}"
            );
            assert_eq!(out, text.replace(secret, "[REDACTED:password]"), "{text:?}");
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "Secrets are injected at deploy time from the vault.",
            "Use the staging key only in the staging environment; it lives in the vault.",
            "The password is stored in 1Password under 'Build server'.",
            "The API key is in the team vault.",
            "Password must be at least 12 characters long.",
            "The token is valid for 24 hours.",
            "Connect with postgres://app:${DB_PASSWORD}@db:5432/main",
            "Order 1234 5678 9012 3456 shipped.",
            "Call +44 20 7946 0958 for the office.",
            "The password policy requires rotation every 90 days.",
            "Le mot de passe est dans le coffre de l'équipe.",
            "Das Passwort ist im Passwort-Manager gespeichert.",
            "La contraseña es obligatoria para entrar.",
            "The reset link is https://example.com/reset?token=abc",
            "Use the key-value store for session data.",
            "The commit is 3f9c2a1b4d5e6f708192a3b4c5d6e7f8091a2b3c.",
            "Issue PROJ-4411 tracks the token-refresh-background-job-rewrite.",
            // References to a secret kept elsewhere, and keys that are not secrets.
            "'client_secret' => APPLE_CLIENT_SECRET,",
            r#""private_key_file": "/path/to/private/key","#,
            "email_tokens = [word_tokenize(body) for body in bodies]",
            r#"token = os.getenv("GITHUB_TOKEN")"#,
            r#""public_key": "MCowBQYDK2VwAyEAq8Zr2LmX7pWc4Vn1""#,
            "sort_key = created_at_2024_partition01",
            "curl -u $DEPLOY_USER:$DEPLOY_TOKEN https://deploy.example.com/hook",
            // Passwords spoken of, not given, in other languages.
            "A senha é obrigatória e deve ter pelo menos doze caracteres.",
            "Het wachtwoord is opgeslagen in de kluis van het team.",
            "Hasło to podstawa bezpieczeństwa.",
            "Lösenordet är sparat i lösenordshanteraren.",
            "Şifre politikası her doksan günde bir değişir.",
            "パスワードは 1Password に保存してあります。",
            "密码是 必填项。",
        ] {
            let (rules, out) = check(text);
            assert!(
                rules.iter().all(|r| !r.starts_with("secret.")),
                "{text:?}: {rules:?}"
            );
            assert_eq!(out, text);
        }
    }

    #[test]
    fn luhn() {
        assert!(super::luhn_valid("79927398713"));
        assert!(!super::luhn_valid("79927398710"));
        assert!(super::card_ok("5555-5555-5555-4444"));
        assert!(!super::card_ok("1234 5678 9012 3456"));
        assert!(!super::card_ok("0000 0000 0000 0000"));
    }
}
