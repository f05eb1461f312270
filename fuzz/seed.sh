#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/, gitignored) from the shared real-server
# captures beside the clone and the engine's own transcripts. Copies, never commits.
#
#   fuzz/seed.sh [CORPUS_DIR]    default: ../shared/corpus/imap-responses next to the clone
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
captures="${1:-$root/../shared/corpus/imap-responses}"

for target in response_stream session; do
    mkdir -p "$here/corpus/$target"
done

if [ -d "$captures" ]; then
    count=0
    for file in "$captures"/*.txt; do
        [ -e "$file" ] || continue
        name="$(basename "$file" .txt)"
        cp "$file" "$here/corpus/response_stream/$name"
        cp "$file" "$here/corpus/session/$name"
        count=$((count + 1))
    done
    echo "seeded $count captures from $captures"
else
    echo "captures absent at $captures: seeding from the engine's transcripts only"
fi

# Whole sessions with the tags the engine sends (seed 0: 0000, 0001, ...), so the session
# target reaches LIST, SELECT and FETCH instead of stopping at the greeting.
for transcript in "$root"/client-wasm/tests/transcripts/*.txt; do
    [ -e "$transcript" ] || continue
    cp "$transcript" "$here/corpus/session/transcript-$(basename "$transcript" .txt)"
done
printf '%s\r\n' \
    '* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready' \
    '+ ' \
    '0000 OK Logged in' \
    '* CAPABILITY IMAP4rev1 IDLE' \
    '0001 OK done' \
    '* LIST (\HasNoChildren) "/" INBOX' \
    '* LIST (\Noselect) "/" "&AOQ-rger"' \
    '0002 OK List completed' \
    '* 2 EXISTS' \
    '* OK [UIDVALIDITY 7] x' \
    '0003 OK [READ-WRITE] Select completed' \
    '* 1 FETCH (UID 5 FLAGS (\Seen) RFC822.SIZE 10 INTERNALDATE "01-Jan-2020 00:00:00 +0000" BODY[HEADER] {11}' \
    > "$here/corpus/session/synthetic-plain-login"
# The FETCH literal above: 11 octets, then the rest of the response.
printf 'Subject: x\n)\r\n0004 OK Fetch completed\r\n* BYE bye\r\n' >> "$here/corpus/session/synthetic-plain-login"
printf '%s\r\n' \
    '* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready' \
    '0000 OK Begin TLS' \
    '* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR' \
    '0001 OK done' \
    '0002 NO [ALERT] bad password' \
    > "$here/corpus/session/synthetic-starttls"
# A QRESYNC server: ENABLE, VANISHED (EARLIER), MODSEQ, CLOSED and TRYCREATE.
printf '%s\r\n' \
    '* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN ENABLE CONDSTORE QRESYNC UIDPLUS] ready' \
    '+ ' \
    '0000 OK [CAPABILITY IMAP4rev1 ENABLE CONDSTORE QRESYNC UIDPLUS] Logged in' \
    '* ENABLED QRESYNC' \
    '0001 OK enabled' \
    '* 3 EXISTS' \
    '* OK [UIDVALIDITY 7] x' \
    '* OK [HIGHESTMODSEQ 9] x' \
    '* VANISHED (EARLIER) 2:4' \
    '* 1 FETCH (UID 1 FLAGS (\Seen) MODSEQ (9))' \
    '0002 OK [READ-WRITE] Select completed' \
    '* VANISHED 1' \
    '* 1 FETCH (FLAGS ())' \
    '* OK [CLOSED] x' \
    '0003 NO [TRYCREATE] no such mailbox' \
    '* BYE bye' \
    > "$here/corpus/session/synthetic-qresync"
# Gmail: X-GM-EXT-1 ids and labels (atoms, quoted, modified UTF-7, a literal).
printf '%s\r\n' \
    '* OK [CAPABILITY IMAP4rev1 X-GM-EXT-1 SASL-IR AUTH=PLAIN] Gimap ready' \
    '0000 OK [CAPABILITY IMAP4rev1 X-GM-EXT-1 IDLE UIDPLUS] alice authenticated (Success)' \
    '* LIST (\HasNoChildren) "/" INBOX' \
    '0001 OK Success' \
    '* 3 EXISTS' \
    '* OK [UIDVALIDITY 1] UIDs valid.' \
    '0002 OK [READ-WRITE] INBOX selected. (Success)' \
    '* 1 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1278455344230334865 X-GM-LABELS (\Inbox "\\Important" &AMk-t&AOk-) UID 1)' \
    '* 1 FETCH (X-GM-LABELS ({3}' \
    > "$here/corpus/session/synthetic-gmail"
printf 'abc) UID 1)\r\n0003 OK Success\r\n* BYE bye\r\n' >> "$here/corpus/session/synthetic-gmail"
echo "corpora: $(ls "$here/corpus/response_stream" | wc -l) response_stream, $(ls "$here/corpus/session" | wc -l) session"
