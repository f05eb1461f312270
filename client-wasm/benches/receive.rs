//! Parse throughput of the engine's receive path, side by side with imap-codec, imap-proto and
//! a plain memchr scan, on one generated stream of 100,000 header FETCH responses (~80 MB).
//!
//! Run: `cargo bench -p client-wasm --bench receive`. Results and the machine they were taken
//! on: docs/benchmarks-engine.md. The stream is generated from a fixed seed: no files.
//!
//! Criterion cannot measure memory, so the bytes per message of the list model
//! (`MessageList`) are computed once and printed before the timings.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod drive;

// Benches are never built for wasm32 by `cargo test`, but `cargo clippy --all-targets
// --target wasm32-unknown-unknown` would: there this is an empty program.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use crate::drive;
    use client_wasm::{MessageList, ResponseStream};
    use client_wasm_receive::summary_header::whole_header_parser;
    use criterion::{Criterion, SamplingMode, Throughput};
    use imap_codec::decode::Decoder;
    use imap_codec::{GreetingCodec, ResponseCodec};
    use mail_parser::MessageParser;
    use std::hint::black_box;
    use std::ops::Range;
    use std::time::Duration;

    /// Messages in the generated FETCH response.
    const MESSAGES: u32 = 100_000;
    use crate::drive::CHUNK;
    // The engine's tags with seed 0 (drive.rs): LOGIN is `0000`, SELECT `0001`, UID FETCH
    // `0002`.

    const GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.\r\n";
    const LOGIN_OK: &[u8] = b"0000 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE COMPRESS=DEFLATE] Logged in\r\n";
    const FETCH_OK: &[u8] = b"0002 OK Fetch completed (0.412 + 0.000 + 0.411 secs).\r\n";

    /// The generated conversation, server side, cut where the engine must submit its next
    /// command. Every parser is measured over `all`, the concatenation.
    struct Stream {
        /// Greeting.
        greeting: Range<usize>,
        /// LOGIN's tagged OK.
        login: Range<usize>,
        /// SELECT's untagged data and tagged OK.
        select: Range<usize>,
        /// The 100,000 FETCH responses and the UID FETCH's tagged OK.
        fetch: Range<usize>,
        all: Vec<u8>,
        /// Where each header literal's bytes are in `all`.
        headers: Vec<Range<usize>>,
    }

    /// SplitMix64: deterministic and good enough to vary the generated text.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
            items[self.below(items.len())]
        }

        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }
    }

    const FIRST: &[&str] = &[
        "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
        "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter",
    ];
    const LAST: &[&str] = &[
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
        "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White",
    ];
    /// Display names that need RFC 2047 encoding, already encoded.
    const ENCODED_NAMES: &[&str] = &[
        "=?ISO-8859-1?Q?J=F6rg_M=FCller?=",
        "=?UTF-8?Q?Fran=C3=A7oise_Lef=C3=A8vre?=",
        "=?UTF-8?B?5bGx55Sw5aSq6YOO?=",
        "=?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?=",
        "=?UTF-8?Q?Bj=C3=B6rn_=C3=85str=C3=B6m?=",
    ];
    const DOMAINS: &[&str] = &[
        "example.com",
        "example.org",
        "mail.example.net",
        "lists.example.edu",
        "corp.example.co.uk",
        "example.de",
    ];
    const SUBJECTS: &[&str] = &[
        "Quarterly report draft for review",
        "Re: Meeting moved to Thursday afternoon",
        "Fwd: Invoice 2026-1187 (payment due)",
        "[dev] Proposal: switch the build to the new toolchain",
        "Your order has shipped",
        "Re: Re: weekend plans?",
        "Minutes of the architecture review",
        "[announce] Release 4.2.0 is out",
        "Lunch tomorrow",
        "Action required: confirm your subscription settings",
    ];
    /// Subjects as RFC 2047 encoded words, the way non-ASCII subjects arrive.
    const ENCODED_SUBJECTS: &[&str] = &[
        "=?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=",
        "=?UTF-8?Q?R=C3=A9union_de_lundi_=E2=80=93_ordre_du_jour?=",
        "=?ISO-8859-1?Q?=C4nderungen_am_Vertrag?= =?ISO-8859-1?Q?_=28Entwurf=29?=",
        "=?UTF-8?B?5Lya6K2w44Gu6K2w5LqL6Yyy?=",
        "Re: =?UTF-8?Q?Caf=C3=A9_on_Friday?=",
    ];
    const MONTHS: &[&str] = &[
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const WEEKDAYS: &[&str] = &["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const ZONES: &[&str] = &[
        "+0000", "+0100", "+0200", "-0500", "-0800", "+0530", "+0900",
    ];
    const MAILERS: &[&str] = &[
        "Mozilla Thunderbird 140.5",
        "Apple Mail (2.3826.700.81)",
        "Microsoft Outlook 16.0",
        "Roundcube Webmail/1.6.9",
    ];
    const SPAM_TESTS: &[&str] = &[
        "BAYES_00",
        "DKIM_SIGNED",
        "DKIM_VALID",
        "DKIM_VALID_AU",
        "HTML_MESSAGE",
        "RCVD_IN_DNSWL_NONE",
        "SPF_HELO_NONE",
        "SPF_PASS",
        "URIBL_BLOCKED",
        "MAILING_LIST_MULTI",
    ];
    const FLAG_SETS: &[&str] = &[
        "\\Seen",
        "\\Seen",
        "\\Seen",
        "",
        "\\Seen \\Answered",
        "\\Seen \\Flagged",
        "\\Seen $Forwarded",
        "\\Seen \\Answered $Label1",
    ];

    struct When {
        day: usize,
        month: usize,
        year: usize,
        hour: usize,
        minute: usize,
        second: usize,
        zone: &'static str,
    }

    impl When {
        fn random(rng: &mut Rng) -> Self {
            Self {
                day: 1 + rng.below(28),
                month: rng.below(12),
                year: 2020 + rng.below(7),
                hour: rng.below(24),
                minute: rng.below(60),
                second: rng.below(60),
                zone: rng.pick(ZONES),
            }
        }

        /// RFC 5322 date-time, as in the Date header.
        fn rfc5322(&self, rng: &mut Rng) -> String {
            format!(
                "{}, {} {} {} {:02}:{:02}:{:02} {}",
                rng.pick(WEEKDAYS),
                self.day,
                MONTHS[self.month],
                self.year,
                self.hour,
                self.minute,
                self.second,
                self.zone
            )
        }

        /// IMAP date-time, as in INTERNALDATE.
        fn imap(&self) -> String {
            format!(
                "{:02}-{}-{} {:02}:{:02}:{:02} {}",
                self.day,
                MONTHS[self.month],
                self.year,
                self.hour,
                self.minute,
                self.second,
                self.zone
            )
        }
    }

    fn address(rng: &mut Rng) -> (String, String) {
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let mailbox = format!(
            "{}.{}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            rng.pick(DOMAINS)
        );
        let name = if rng.chance(20) {
            rng.pick(ENCODED_NAMES).to_owned()
        } else if rng.chance(50) {
            format!("\"{last}, {first}\"")
        } else {
            format!("{first} {last}")
        };
        (name, mailbox)
    }

    fn hex(rng: &mut Rng, digits: usize) -> String {
        format!("{:016X}", rng.next())[..digits.min(16)].to_owned()
    }

    /// One message's header section, 500 to 800 bytes, ending with the empty line.
    fn header(rng: &mut Rng, uid: u32, date: &When) -> Vec<u8> {
        let target = 500 + rng.below(301);
        let (from_name, from_addr) = address(rng);
        let (to_name, to_addr) = address(rng);
        let sender_domain = from_addr.split('@').nth(1).unwrap_or("example.com");
        let date_text = date.rfc5322(rng);
        let mut lines: Vec<String> = Vec::new();
        lines.push(format!("Return-Path: <{from_addr}>"));
        lines.push(format!("Delivered-To: {to_addr}"));
        lines.push(format!(
            "Received: from mx{}.{sender_domain} (mx{}.{sender_domain} [192.0.2.{}])\r\n\tby imap.example.org (Postfix) with ESMTPS id {}\r\n\tfor <{to_addr}>; {date_text}",
            rng.below(9),
            rng.below(9),
            1 + rng.below(254),
            hex(rng, 10),
        ));
        let mut optional: Vec<String> = Vec::new();
        optional.push(format!(
            "Received: from [10.0.{}.{}] (unknown [198.51.100.{}])\r\n\tby mx.{sender_domain} (Postfix) with ESMTPSA id {}; {date_text}",
            rng.below(255),
            rng.below(255),
            1 + rng.below(254),
            hex(rng, 12),
        ));
        lines.push(format!("From: {from_name} <{from_addr}>"));
        lines.push(format!("To: {to_name} <{to_addr}>"));
        if rng.chance(30) {
            let (cc_name, cc_addr) = address(rng);
            optional.push(format!("Cc: {cc_name} <{cc_addr}>"));
        }
        let subject = if rng.chance(25) {
            rng.pick(ENCODED_SUBJECTS).to_owned()
        } else {
            rng.pick(SUBJECTS).to_owned()
        };
        lines.push(format!("Subject: {subject}"));
        lines.push(format!("Date: {date_text}"));
        lines.push(format!(
            "Message-ID: <{}.{uid}.{}@{sender_domain}>",
            hex(rng, 12),
            rng.below(100_000)
        ));
        if rng.chance(40) {
            let parent = format!("<{}.{}@{sender_domain}>", hex(rng, 12), rng.below(100_000));
            optional.push(format!("In-Reply-To: {parent}"));
            optional.push(format!(
                "References: <{}@{sender_domain}>\r\n {parent}",
                hex(rng, 14)
            ));
        }
        lines.push("MIME-Version: 1.0".to_owned());
        lines.push(if rng.chance(50) {
            "Content-Type: text/plain; charset=UTF-8; format=flowed".to_owned()
        } else {
            format!(
                "Content-Type: multipart/alternative;\r\n boundary=\"------------{}\"",
                hex(rng, 16)
            )
        });
        optional.push("Content-Transfer-Encoding: 8bit".to_owned());
        optional.push(format!("X-Mailer: {}", rng.pick(MAILERS)));
        optional.push(format!(
            "List-Id: Development discussion <dev.{sender_domain}>"
        ));

        let length = |lines: &[String]| lines.iter().map(|l| l.len() + 2).sum::<usize>() + 2;
        for line in optional {
            if length(&lines) + line.len() + 2 <= target {
                lines.push(line);
            }
        }
        // Fill up to the target length with a spam-filter report, as servers add.
        let mut spam = format!(
            "X-Spam-Status: No, score=-{}.{} required=5.0 tests=",
            rng.below(5),
            rng.below(10)
        );
        let mut first = true;
        while length(&lines) + spam.len() + 2 < target {
            let room = target - (length(&lines) + spam.len() + 2);
            let test = rng.pick(SPAM_TESTS);
            let separator = if first { "" } else { "," };
            if separator.len() + test.len() <= room {
                spam.push_str(separator);
                spam.push_str(test);
                first = false;
            } else {
                // Pad the last piece: a version token of the right width.
                let pad = room.saturating_sub(separator.len() + 1);
                spam.push_str(separator);
                spam.push('v');
                spam.push_str(&"3".repeat(pad));
                break;
            }
        }
        if length(&lines) + spam.len() + 2 <= 800 {
            lines.push(spam);
        }
        let mut out = Vec::with_capacity(target);
        for line in &lines {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    fn generate() -> Stream {
        let mut rng = Rng(0x5EED_1A9E_2026_0001);
        let mut all = Vec::with_capacity(84 * 1024 * 1024);
        all.extend_from_slice(GREETING);
        let greeting = 0..all.len();
        let start = all.len();
        all.extend_from_slice(LOGIN_OK);
        let login = start..all.len();
        let start = all.len();
        all.extend_from_slice(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Label1)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Label1 \\*)] Flags permitted.\r\n");
        all.extend_from_slice(format!("* {MESSAGES} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1764090000] UIDs valid\r\n* OK [UIDNEXT {}] Predicted next UID\r\n* OK [HIGHESTMODSEQ {}] Highest\r\n0001 OK [READ-WRITE] Select completed (0.002 + 0.000 + 0.001 secs).\r\n", MESSAGES + 1, MESSAGES + 7).as_bytes());
        let select = start..all.len();
        let start = all.len();
        let mut headers = Vec::with_capacity(MESSAGES as usize);
        for n in 1..=MESSAGES {
            let date = When::random(&mut rng);
            let header = header(&mut rng, n, &date);
            assert!(
                (500..=800).contains(&header.len()),
                "header of {} bytes",
                header.len()
            );
            let size = header.len() + 200 + rng.below(60_000);
            all.extend_from_slice(
                format!(
                    "* {n} FETCH (UID {n} FLAGS ({}) RFC822.SIZE {size} INTERNALDATE \"{}\" BODY[HEADER] {{{}}}\r\n",
                    rng.pick(FLAG_SETS),
                    date.imap(),
                    header.len()
                )
                .as_bytes(),
            );
            let at = all.len();
            all.extend_from_slice(&header);
            headers.push(at..all.len());
            all.extend_from_slice(b")\r\n");
        }
        all.extend_from_slice(FETCH_OK);
        let fetch = start..all.len();
        Stream {
            greeting,
            login,
            select,
            fetch,
            all,
            headers,
        }
    }

    /// The engine's full receive path (`drive::engine`) on this stream's sections.
    fn engine(stream: &Stream, keep: bool) -> (usize, MessageList) {
        let bytes = &stream.all;
        drive::engine(
            drive::Sections {
                greeting: &bytes[stream.greeting.clone()],
                login: &bytes[stream.login.clone()],
                select: &bytes[stream.select.clone()],
                fetch: &bytes[stream.fetch.clone()],
            },
            keep,
        )
    }

    /// With `RECEIVE_DUMP_DIR` set, writes the stream's sections there for the wasm
    /// measurement (`client-wasm/browser/tests/wasm_receive.rs`).
    fn dump(stream: &Stream) {
        let Some(dir) = std::env::var_os("RECEIVE_DUMP_DIR") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("RECEIVE_DUMP_DIR can be created");
        for (name, range) in [
            ("greeting", &stream.greeting),
            ("login", &stream.login),
            ("select", &stream.select),
            ("fetch", &stream.fetch),
        ] {
            std::fs::write(dir.join(format!("{name}.bin")), &stream.all[range.clone()])
                .expect("RECEIVE_DUMP_DIR is writable");
        }
        println!("stream sections written to {}", dir.display());
    }

    /// The engine's response reader alone (`ResponseStream`: framing with imap-codec's
    /// Fragmentizer, then imap-codec decoding), without the session or the summaries.
    fn engine_reader(bytes: &[u8]) -> usize {
        let mut reader = ResponseStream::default();
        let mut messages = 0;
        for chunk in bytes.chunks(CHUNK) {
            reader.push(chunk);
            while let Some(message) = reader.next_message() {
                black_box(&message);
                messages += 1;
            }
        }
        messages
    }

    /// imap-codec's codecs over the whole buffer, one response after the other.
    fn imap_codec(bytes: &[u8]) -> usize {
        let (mut rest, greeting) = GreetingCodec::default()
            .decode(bytes)
            .expect("the greeting decodes");
        black_box(&greeting);
        let codec = ResponseCodec::default();
        let mut messages = 1;
        while !rest.is_empty() {
            let (next, response) = codec.decode(rest).unwrap_or_else(|error| {
                panic!(
                    "imap-codec: {error:?} at {}",
                    String::from_utf8_lossy(&rest[..rest.len().min(200)])
                )
            });
            black_box(&response);
            rest = next;
            messages += 1;
        }
        messages
    }

    /// imap-proto 0.17 (`Response::parse`, its `parse_response`) over the whole buffer.
    fn imap_proto(bytes: &[u8]) -> usize {
        let mut rest = bytes;
        let mut messages = 0;
        while !rest.is_empty() {
            let (next, response) = imap_proto::Response::parse(rest).unwrap_or_else(|error| {
                panic!(
                    "imap-proto: {error:?} at {}",
                    String::from_utf8_lossy(&rest[..rest.len().min(200)])
                )
            });
            black_box(&response);
            rest = next;
            messages += 1;
        }
        messages
    }

    /// The ceiling: every line end found, nothing parsed.
    fn memchr_scan(bytes: &[u8]) -> usize {
        memchr::memmem::find_iter(bytes, b"\r\n").count()
    }

    /// mail-parser's `parse_headers` on each header literal, as the engine runs it per message.
    fn mail_parser_headers(stream: &Stream, parser: &MessageParser) -> usize {
        let mut parsed = 0;
        for range in &stream.headers {
            if let Some(message) = parser.parse_headers(&stream.all[range.clone()]) {
                black_box(&message);
                parsed += 1;
            }
        }
        parsed
    }

    /// Every row's header fields equal what mail-parser's whole-header parse reads (the
    /// engine reads them with a line scan and fast paths).
    fn check_rows(stream: &Stream, list: &MessageList) {
        let parser = whole_header_parser();
        for (row, range) in list.iter().zip(&stream.headers) {
            let whole = parser
                .parse_headers(&stream.all[range.clone()])
                .expect("the generated header parses");
            let from = whole.from().and_then(|from| from.first());
            assert_eq!(row.subject.as_deref(), whole.subject(), "UID {}", row.uid);
            assert_eq!(row.message_id.as_deref(), whole.message_id());
            assert_eq!(row.date, whole.date().map(|d| d.to_timestamp() * 1000));
            assert_eq!(
                row.from
                    .as_ref()
                    .map(|f| (f.name.as_deref(), f.address.as_deref())),
                from.map(|f| (f.name(), f.address()))
            );
        }
    }

    /// The list model's memory per message: the `MessageList` value, its heap capacity
    /// (rows, text arena, sender and flag-list tables with their hash indexes), and an
    /// estimate of the allocator's overhead (16 B per live allocation).
    fn report_memory(stream: &Stream) {
        let (received, mut list) = engine(stream, true);
        assert_eq!(received, MESSAGES as usize);
        assert_eq!(list.len(), MESSAGES as usize);
        check_rows(stream, &list);
        let count = list.len() as f64;
        let text: usize = list
            .iter()
            .map(|s| {
                s.subject.as_ref().map_or(0, String::len)
                    + s.message_id.as_ref().map_or(0, String::len)
            })
            .sum();
        println!(
            "list model: MessageList of {} messages (goal <= 150 B per message, thread keys \
             included); subject and message-id text {:.1} B per message",
            list.len(),
            text as f64 / count
        );
        let report = |list: &MessageList, when: &str| {
            let memory = list.memory();
            let total = (memory.inline + memory.heap) as f64;
            println!(
                "  {when}: inline + heap capacity = {:.1} B per message; {} allocations; \
                 with ~16 B allocator overhead each: ~{:.1} B per message",
                total / count,
                memory.allocations,
                (total + 16.0 * memory.allocations as f64) / count
            );
        };
        report(&list, "as grown");
        list.shrink_to_fit();
        report(&list, "after shrink_to_fit");
    }

    pub fn main() {
        let stream = generate();
        let total = stream.all.len();
        let header_bytes: usize = stream.headers.iter().map(|r| r.len()).sum();
        println!(
            "stream: {total} bytes ({:.1} MB), {MESSAGES} FETCH responses, headers {:.1} B on average",
            total as f64 / 1e6,
            header_bytes as f64 / f64::from(MESSAGES)
        );
        let responses = 1 + 1 + 8 + MESSAGES as usize + 1;
        dump(&stream);

        // Every contender must read the whole stream before it is timed.
        assert_eq!(engine(&stream, false).0, MESSAGES as usize);
        assert_eq!(engine_reader(&stream.all), responses);
        assert_eq!(imap_codec(&stream.all), responses);
        assert_eq!(imap_proto(&stream.all), responses);
        let parser = MessageParser::new();
        assert_eq!(mail_parser_headers(&stream, &parser), MESSAGES as usize);
        report_memory(&stream);

        let mut criterion = Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_secs(3))
            .measurement_time(Duration::from_secs(20))
            .configure_from_args();
        let mut group = criterion.benchmark_group("receive");
        // Each iteration is tens to hundreds of milliseconds: equal-sized samples, not
        // criterion's linear ramp (which would need 55 iterations of the slowest function).
        group.sampling_mode(SamplingMode::Flat);
        // Every function covers the same 100,000 messages: GB/s is per byte of the whole stream
        // (for mail-parser-headers too, so the figures compare as times).
        group.throughput(Throughput::BytesDecimal(total as u64));
        group.bench_function("engine", |b| {
            b.iter(|| assert_eq!(engine(&stream, false).0, MESSAGES as usize));
        });
        group.bench_function("engine-reader", |b| {
            b.iter(|| engine_reader(black_box(&stream.all)));
        });
        group.bench_function("imap-codec", |b| {
            b.iter(|| imap_codec(black_box(&stream.all)));
        });
        group.bench_function("imap-proto", |b| {
            b.iter(|| imap_proto(black_box(&stream.all)));
        });
        group.bench_function("memchr-scan", |b| {
            b.iter(|| memchr_scan(black_box(&stream.all)));
        });
        group.bench_function("mail-parser-headers", |b| {
            b.iter(|| mail_parser_headers(black_box(&stream), &parser));
        });
        // The same with the engine's list parser, which reads only the headers a summary uses
        // and skips the rest (Received, Content-Type, ...).
        let minimal = whole_header_parser();
        group.bench_function("mail-parser-headers-minimal", |b| {
            b.iter(|| mail_parser_headers(black_box(&stream), &minimal));
        });
        group.finish();
        criterion.final_summary();
    }
}
