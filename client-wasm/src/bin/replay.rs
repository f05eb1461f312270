//! `replay`: feeds a captured server byte stream to the engine's response reader in
//! random-sized chunks and prints one JSON object per line for every message, then a summary.
//!
//! ```text
//! cargo run --release -p client-wasm --bin replay -- capture.txt
//! cargo run --release -p client-wasm --bin replay -- --seed 7 - < capture.txt
//! ```
//!
//! The input holds the server's bytes only (as in `shared/corpus/imap-responses/*.txt`).
//! Output lines have a `type`: `greeting`, `status`, `data`, `continuation`, `skipped`
//! (framed but not understood; the stream stays in sync), and a final `summary`. Mailbox names
//! are decoded from modified UTF-7 (`mailbox`), with the wire form beside them
//! (`mailbox_wire`). It exits 0 when the stream was processed, skips included, and non-zero
//! only when it could not read its input or write its output. See docs/fuzzing-and-replay.md.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

/// A native tool: on wasm32 there is nothing to run.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use clap::Parser;
    use client_wasm::{Decoded, MailboxName, ResponseStream, StreamMessage};
    use imap_types::core::{IString, NString, NString8, Text};
    use imap_types::extensions::binary::Literal8;
    use imap_types::fetch::MessageDataItem;
    use imap_types::flag::{FlagFetch, FlagPerm};
    use imap_types::mailbox::Mailbox;
    use imap_types::response::{
        Code, CommandContinuationRequest, Data, GreetingKind, Response, Status, StatusKind,
    };
    use imap_types::status::StatusDataItem;
    use serde::Serialize;
    use serde_json::{Map, Value, json};
    use std::io::{self, BufWriter, Read, Write};
    use std::path::PathBuf;
    use std::process::ExitCode;

    /// Replays a captured IMAP server byte stream through the engine's response reader.
    #[derive(Debug, Parser)]
    #[command(name = "replay", version)]
    struct Args {
        /// The capture (server bytes only), or `-` for standard input.
        input: PathBuf,
        /// Seed for the chunk sizes; the same seed gives the same chunking.
        #[arg(long, default_value_t = 0x5eed)]
        seed: u64,
        /// Largest chunk fed at once; chunks are 1..=N bytes.
        #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..))]
        max_chunk: u64,
        /// Size limit for one response, literals included (the engine's default is 64 MiB).
        #[arg(long, default_value_t = ResponseStream::DEFAULT_MAX_MESSAGE_SIZE)]
        max_size: u32,
    }

    #[derive(Debug, thiserror::Error)]
    enum ReplayError {
        #[error("cannot read {path}: {source}")]
        Read { path: String, source: io::Error },
        #[error("cannot write the output: {0}")]
        Write(#[from] io::Error),
        #[error("cannot encode the output: {0}")]
        Encode(#[from] serde_json::Error),
    }

    pub fn main() -> ExitCode {
        let args = Args::parse();
        match run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            // `replay capture | head` is not a failure.
            Err(ReplayError::Write(error)) if error.kind() == io::ErrorKind::BrokenPipe => {
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("replay: {error}");
                ExitCode::FAILURE
            }
        }
    }

    fn read_input(path: &PathBuf) -> Result<Vec<u8>, ReplayError> {
        let mut bytes = Vec::new();
        let result = if path.as_os_str() == "-" {
            io::stdin().lock().read_to_end(&mut bytes)
        } else {
            std::fs::File::open(path).and_then(|mut file| file.read_to_end(&mut bytes))
        };
        result.map_err(|source| ReplayError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Ok(bytes)
    }

    fn run(args: &Args) -> Result<(), ReplayError> {
        let bytes = read_input(&args.input)?;
        let mut out = BufWriter::new(io::stdout().lock());
        let mut stream = ResponseStream::new(args.max_size);
        let mut rng = XorShift::new(args.seed);
        let (mut responses, mut skipped) = (0u64, 0u64);
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let size = usize::try_from(1 + rng.next() % args.max_chunk).unwrap_or(usize::MAX);
            let (chunk, tail) = rest.split_at(size.min(rest.len()));
            rest = tail;
            stream.push(chunk);
            while let Some(message) = stream.next_message() {
                let offset = message.offset;
                let length = message.length;
                let line = match &message.decoded {
                    Decoded::Skipped { reason } => {
                        skipped += 1;
                        let start = usize::try_from(offset).unwrap_or(usize::MAX);
                        json!({
                            "type": "skipped",
                            "reason": reason,
                            "length": length,
                            "offset": offset,
                            "preview": preview(
                                bytes.get(start..start.saturating_add(length)).unwrap_or_default(),
                            ),
                        })
                    }
                    decoded => {
                        responses += 1;
                        let mut fields = message_json(decoded, &message).into_iter();
                        // `type` first, then where the message lies, then its content.
                        let mut object: Map<String, Value> = fields.by_ref().take(1).collect();
                        object.insert("offset".into(), offset.into());
                        object.insert("length".into(), length.into());
                        object.extend(fields);
                        Value::Object(object)
                    }
                };
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
            }
        }
        let summary = json!({
            "type": "summary",
            "bytes": stream.bytes_pushed(),
            "responses": responses,
            "skipped": skipped,
            "incomplete_tail_bytes": stream.incomplete_tail_bytes(),
        });
        serde_json::to_writer(&mut out, &summary)?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }

    /// xorshift64*: chunk sizes only, no need for a crate.
    struct XorShift(u64);

    impl XorShift {
        fn new(seed: u64) -> Self {
            // Any seed, zero included, gives a non-zero state.
            Self(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
        }

        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    /// The first line of a skipped message, up to 160 bytes, for bug reports; `…` marks a cut.
    fn preview(bytes: &[u8]) -> String {
        let line_end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |end| end + 1);
        let cut = line_end.min(160);
        let mut text = lossy(&bytes[..cut]);
        if cut < bytes.len() {
            text.push('…');
        }
        text
    }

    fn lossy(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    /// Anything imap-types can serialize (its `serde` feature), for the rarer shapes.
    fn raw<T: Serialize>(value: &T) -> Value {
        serde_json::to_value(value)
            .unwrap_or_else(|error| json!({ "unserializable": error.to_string() }))
    }

    fn object(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// `message`'s fields; status texts as the server wrote them (8-bit text included).
    fn message_json(decoded: &Decoded<'_>, message: &StreamMessage<'_>) -> Map<String, Value> {
        let text = |text: &Text<'_>| Value::from(message.shown_text(text));
        match decoded {
            Decoded::Greeting(greeting) => object(vec![
                ("type", "greeting".into()),
                (
                    "kind",
                    match greeting.kind {
                        GreetingKind::Ok => "ok",
                        GreetingKind::PreAuth => "preauth",
                        GreetingKind::Bye => "bye",
                    }
                    .into(),
                ),
                ("code", code_json(greeting.code.as_ref())),
                ("text", text(&greeting.text)),
            ]),
            Decoded::Response(Response::Status(status)) => status_json(status, text),
            Decoded::Response(Response::Data(data)) => data_json(data),
            Decoded::Response(Response::CommandContinuationRequest(request)) => match request {
                CommandContinuationRequest::Basic(basic) => object(vec![
                    ("type", "continuation".into()),
                    ("code", code_json(basic.code())),
                    ("text", text(basic.text())),
                ]),
                CommandContinuationRequest::Base64(data) => object(vec![
                    ("type", "continuation".into()),
                    ("data", lossy(data).into()),
                ]),
            },
            Decoded::Esearch(esearch) => {
                let mut map = object(vec![("type", "esearch".into())]);
                if let Value::Object(fields) = raw(esearch) {
                    map.extend(fields);
                }
                map
            }
            Decoded::Skipped { .. } => Map::new(),
        }
    }

    fn status_json(status: &Status<'_>, shown: impl Fn(&Text<'_>) -> Value) -> Map<String, Value> {
        let kind = |kind: StatusKind| match kind {
            StatusKind::Ok => "ok",
            StatusKind::No => "no",
            StatusKind::Bad => "bad",
        };
        let (tag, kind, code, text) = match status {
            Status::Untagged(body) => (Value::Null, kind(body.kind), &body.code, &body.text),
            Status::Tagged(tagged) => (
                tagged.tag.inner().into(),
                kind(tagged.body.kind),
                &tagged.body.code,
                &tagged.body.text,
            ),
            Status::Bye(bye) => (Value::Null, "bye", &bye.code, &bye.text),
        };
        object(vec![
            ("type", "status".into()),
            ("tag", tag),
            ("kind", kind.into()),
            ("code", code_json(code.as_ref())),
            ("text", shown(text)),
        ])
    }

    fn code_json(code: Option<&Code<'_>>) -> Value {
        let Some(code) = code else {
            return Value::Null;
        };
        let named = |name: &str| json!({ "name": name });
        let number = |name: &str, value: u64| json!({ "name": name, "value": value });
        match code {
            Code::Alert => named("ALERT"),
            Code::Parse => named("PARSE"),
            Code::ReadOnly => named("READ-ONLY"),
            Code::ReadWrite => named("READ-WRITE"),
            Code::TryCreate => named("TRYCREATE"),
            Code::UidNotSticky => named("UIDNOTSTICKY"),
            Code::Capability(caps) => json!({
                "name": "CAPABILITY",
                "capabilities": caps.as_ref().iter().map(ToString::to_string).collect::<Vec<_>>(),
            }),
            Code::PermanentFlags(flags) => json!({
                "name": "PERMANENTFLAGS",
                "flags": flags.iter().map(|flag| match flag {
                    FlagPerm::Flag(flag) => flag.to_string(),
                    FlagPerm::Asterisk => "\\*".to_owned(),
                }).collect::<Vec<_>>(),
            }),
            Code::UidNext(value) => number("UIDNEXT", value.get().into()),
            Code::UidValidity(value) => number("UIDVALIDITY", value.get().into()),
            Code::Unseen(value) => number("UNSEEN", value.get().into()),
            Code::HighestModSeq(value) => number("HIGHESTMODSEQ", value.get()),
            Code::AppendUid { uid_validity, uid } => json!({
                "name": "APPENDUID",
                "uid_validity": uid_validity.get(),
                "uid": uid.get(),
            }),
            Code::Other(other) => json!({ "name": "other", "raw": lossy(other.inner()) }),
            other => json!({ "name": "other", "value": raw(other) }),
        }
    }

    /// A mailbox name decoded for people, with the wire bytes beside it.
    fn mailbox_fields(mailbox: &Mailbox<'_>) -> [(&'static str, Value); 2] {
        let name = match mailbox {
            Mailbox::Inbox => MailboxName::inbox(),
            Mailbox::Other(other) => MailboxName::from_wire(other.as_ref()),
        };
        [
            ("mailbox", name.display().into()),
            ("mailbox_wire", lossy(name.as_wire()).into()),
        ]
    }

    fn data_json(data: &Data<'_>) -> Map<String, Value> {
        let mut fields: Vec<(&str, Value)> = vec![("type", "data".into())];
        let strings =
            |items: &mut dyn Iterator<Item = String>| Value::from(items.collect::<Vec<_>>());
        match data {
            Data::Capability(caps) => fields.extend([
                ("kind", "capability".into()),
                (
                    "capabilities",
                    strings(&mut caps.as_ref().iter().map(ToString::to_string)),
                ),
            ]),
            Data::List {
                items,
                delimiter,
                mailbox,
            }
            | Data::Lsub {
                items,
                delimiter,
                mailbox,
            } => {
                let kind = if matches!(data, Data::List { .. }) {
                    "list"
                } else {
                    "lsub"
                };
                fields.extend([
                    ("kind", kind.into()),
                    (
                        "attributes",
                        strings(&mut items.iter().map(ToString::to_string)),
                    ),
                    (
                        "delimiter",
                        delimiter.as_ref().map(|d| d.inner().to_string()).into(),
                    ),
                ]);
                fields.extend(mailbox_fields(mailbox));
            }
            Data::Status { mailbox, items } => {
                fields.push(("kind", "status".into()));
                fields.extend(mailbox_fields(mailbox));
                let items: Map<String, Value> = items
                    .iter()
                    .map(|item| {
                        let (name, value): (&str, u64) = match item {
                            StatusDataItem::Messages(n) => ("MESSAGES", (*n).into()),
                            StatusDataItem::Recent(n) => ("RECENT", (*n).into()),
                            StatusDataItem::UidNext(n) => ("UIDNEXT", n.get().into()),
                            StatusDataItem::UidValidity(n) => ("UIDVALIDITY", n.get().into()),
                            StatusDataItem::Unseen(n) => ("UNSEEN", (*n).into()),
                            StatusDataItem::Deleted(n) => ("DELETED", (*n).into()),
                            StatusDataItem::DeletedStorage(n) => ("DELETED-STORAGE", *n),
                            StatusDataItem::HighestModSeq(n) => ("HIGHESTMODSEQ", *n),
                        };
                        (name.to_owned(), Value::from(value))
                    })
                    .collect();
                fields.push(("items", items.into()));
            }
            Data::Search(numbers, modseq) | Data::Sort(numbers, modseq) => {
                let kind = if matches!(data, Data::Search(..)) {
                    "search"
                } else {
                    "sort"
                };
                fields.extend([
                    ("kind", kind.into()),
                    (
                        "numbers",
                        numbers.iter().map(|n| n.get()).collect::<Vec<_>>().into(),
                    ),
                    ("modseq", modseq.map(|m| m.get()).into()),
                ]);
            }
            Data::Flags(flags) => fields.extend([
                ("kind", "flags".into()),
                ("flags", strings(&mut flags.iter().map(ToString::to_string))),
            ]),
            Data::Exists(count) => {
                fields.extend([("kind", "exists".into()), ("count", (*count).into())]);
            }
            Data::Recent(count) => {
                fields.extend([("kind", "recent".into()), ("count", (*count).into())]);
            }
            Data::Expunge(seq) => {
                fields.extend([("kind", "expunge".into()), ("seq", seq.get().into())]);
            }
            Data::Fetch { seq, items } => fields.extend([
                ("kind", "fetch".into()),
                ("seq", seq.get().into()),
                (
                    "items",
                    items
                        .as_ref()
                        .iter()
                        .map(fetch_item_json)
                        .collect::<Vec<_>>()
                        .into(),
                ),
            ]),
            Data::Enabled { capabilities } => fields.extend([
                ("kind", "enabled".into()),
                (
                    "capabilities",
                    strings(&mut capabilities.iter().map(ToString::to_string)),
                ),
            ]),
            Data::Id { parameters } => {
                let parameters = parameters.as_ref().map(|pairs| {
                    pairs
                        .iter()
                        .map(|(key, value)| (lossy(key.as_ref()), nstring(value)))
                        .collect::<Map<String, Value>>()
                });
                fields.extend([("kind", "id".into()), ("parameters", parameters.into())]);
            }
            Data::Vanished {
                earlier,
                known_uids,
            } => fields.extend([
                ("kind", "vanished".into()),
                ("earlier", (*earlier).into()),
                ("uids", raw(known_uids)),
            ]),
            Data::Thread(_) => fields.extend([("kind", "thread".into()), ("value", raw(data))]),
            Data::Quota { .. } => fields.extend([("kind", "quota".into()), ("value", raw(data))]),
            Data::QuotaRoot { .. } => {
                fields.extend([("kind", "quotaroot".into()), ("value", raw(data))]);
            }
            Data::Namespace { .. } => {
                fields.extend([("kind", "namespace".into()), ("value", raw(data))]);
            }
        }
        object(fields)
    }

    fn nstring(value: &NString<'_>) -> Value {
        value
            .0
            .as_ref()
            .map(|s: &IString<'_>| lossy(s.as_ref()))
            .into()
    }

    /// A literal's size, and the start of its text (200 bytes) so a report shows what it was.
    fn body_json(data: Option<&[u8]>) -> Value {
        match data {
            None => Value::Null,
            Some(bytes) => json!({
                "length": bytes.len(),
                "start": lossy(&bytes[..bytes.len().min(200)]),
            }),
        }
    }

    fn fetch_item_json(item: &MessageDataItem<'_>) -> Value {
        let named = |name: &str, value: Value| json!({ "name": name, "value": value });
        let nbody = |value: &NString<'_>| body_json(value.0.as_ref().map(AsRef::as_ref));
        match item {
            MessageDataItem::Uid(uid) => named("UID", uid.get().into()),
            MessageDataItem::Flags(flags) => named(
                "FLAGS",
                flags
                    .iter()
                    .map(|flag| match flag {
                        FlagFetch::Flag(flag) => flag.to_string(),
                        FlagFetch::Recent => "\\Recent".to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .into(),
            ),
            MessageDataItem::Rfc822Size(size) => named("RFC822.SIZE", (*size).into()),
            MessageDataItem::InternalDate(date) => {
                named("INTERNALDATE", date.as_ref().to_rfc3339().into())
            }
            MessageDataItem::ModSeq(modseq) => named("MODSEQ", modseq.get().into()),
            MessageDataItem::BodyExt {
                section,
                origin,
                data,
            } => json!({
                "name": "BODY[]",
                "section": raw(section),
                "origin": origin,
                "value": nbody(data),
            }),
            MessageDataItem::Rfc822(data) => named("RFC822", nbody(data)),
            MessageDataItem::Rfc822Header(data) => named("RFC822.HEADER", nbody(data)),
            MessageDataItem::Rfc822Text(data) => named("RFC822.TEXT", nbody(data)),
            MessageDataItem::Binary { section, value } => {
                let bytes = match value {
                    NString8::NString(value) => value.0.as_ref().map(AsRef::as_ref),
                    NString8::Literal8(Literal8 { data, .. }) => Some(data.as_ref()),
                };
                json!({
                    "name": "BINARY[]",
                    "section": section.iter().map(|part| part.get()).collect::<Vec<_>>(),
                    "value": body_json(bytes),
                })
            }
            MessageDataItem::BinarySize { section, size } => json!({
                "name": "BINARY.SIZE[]",
                "section": section.iter().map(|part| part.get()).collect::<Vec<_>>(),
                "value": size,
            }),
            MessageDataItem::Envelope(envelope) => named("ENVELOPE", raw(envelope)),
            MessageDataItem::Body(body) => named("BODY", raw(body)),
            MessageDataItem::BodyStructure(body) => named("BODYSTRUCTURE", raw(body)),
        }
    }
}
