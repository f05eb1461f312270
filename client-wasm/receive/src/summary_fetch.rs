//! A direct reader for the message list's FETCH shape, `* N FETCH (UID n FLAGS (…)
//! RFC822.SIZE n INTERNALDATE "…" BODY[HEADER] {L}\r\n…)\r\n` with its items in any order,
//! each at most once.
//!
//! One pass over borrowed bytes, no intermediate values and no UTF-8 checks of bytes that
//! are ASCII by grammar. It accepts a subset of what imap-codec accepts and yields the same
//! values; anything else (other items, extra spaces, quoted header, NIL) returns `None` and
//! takes the generic path, lenient second parse included.

use std::num::NonZeroU32;

/// One summary FETCH, as borrowed from the framed message.
#[derive(Debug, PartialEq, Eq)]
pub struct SummaryFetch<'a> {
    pub seq: u32,
    pub uid: NonZeroU32,
    /// The inside of the FLAGS parentheses, each flag checked to be an atom.
    pub flags: Option<&'a [u8]>,
    pub size: Option<u32>,
    /// INTERNALDATE in milliseconds since the Unix epoch.
    pub internal_date: Option<i64>,
    pub header: &'a [u8],
}

/// Reads `message` (one complete framed response) if it has exactly the summary shape.
/// Never inlined, as [`HeaderSummary::read`](crate::summary_header::HeaderSummary::read).
#[inline(never)]
pub fn parse(message: &[u8]) -> Option<SummaryFetch<'_>> {
    let mut cursor = Cursor(message.strip_prefix(b"* ")?);
    let seq = cursor.number().filter(|&n| n > 0)?;
    cursor.tag(b" FETCH (")?;
    let (mut uid, mut flags, mut size, mut internal_date, mut header) =
        (None, None, None, None, None);
    // The items' first letters differ: one byte picks the only name to compare.
    loop {
        match cursor.0.first()? {
            b'U' => {
                cursor.tag(b"UID ")?;
                set_once(&mut uid, cursor.number().and_then(NonZeroU32::new)?)?;
            }
            b'F' => {
                cursor.tag(b"FLAGS (")?;
                set_once(&mut flags, cursor.flag_list()?)?;
            }
            b'R' => {
                cursor.tag(b"RFC822.SIZE ")?;
                set_once(&mut size, cursor.number()?)?;
            }
            b'I' => {
                cursor.tag(b"INTERNALDATE \"")?;
                set_once(&mut internal_date, cursor.date_time()?)?;
            }
            b'B' => {
                cursor.tag(b"BODY[HEADER] {")?;
                set_once(&mut header, cursor.literal()?)?;
            }
            _ => return None,
        }
        if cursor.tag(b" ").is_none() {
            break;
        }
    }
    cursor.tag(b")\r\n")?;
    cursor.0.is_empty().then_some(())?;
    Some(SummaryFetch {
        seq,
        uid: uid?,
        flags,
        size,
        internal_date,
        header: header?,
    })
}

/// The system flags a FETCH may report, by name without the backslash, in the order a list
/// of them alone is given in (the engine shares one list per set of them).
pub const SYSTEM_FLAGS: [&[u8]; 6] = [
    b"Seen",
    b"Answered",
    b"Flagged",
    b"Deleted",
    b"Draft",
    b"Recent",
];

/// Which of [`SYSTEM_FLAGS`] a flag as written (`\\Seen`) names, in any case. The name,
/// at most eight letters, is compared as one [`folded_word`] with each system flag's: one or
/// two flags per message, and six case folds were 4 % of the wasm receive path. Never
/// inlined: [`system_flag_set`]'s copy would add to the `.wasm`, not speed.
#[inline(never)]
pub fn system_flag(flag: &[u8]) -> Option<usize> {
    const WORDS: [u64; SYSTEM_FLAGS.len()] = {
        let mut words = [0; SYSTEM_FLAGS.len()];
        let mut at = 0;
        while at < words.len() {
            words[at] = folded_word(SYSTEM_FLAGS[at]);
            at += 1;
        }
        words
    };
    let name = flag.strip_prefix(b"\\").filter(|name| name.len() <= 8)?;
    let folded = folded_word(name);
    WORDS.iter().position(|&system| system == folded)
}

/// Up to eight bytes as a little-endian word, zeros after them, each byte or-ed with 0x20:
/// that folds a letter's case and turns no other byte into a letter (nor into zero), so two
/// names of letters and of at most eight bytes are equal in any case when their words are.
const fn folded_word(name: &[u8]) -> u64 {
    let mut word = 0;
    let mut at = 0;
    while at < name.len() && at < 8 {
        word |= ((name[at] | 0x20) as u64) << (8 * at);
        at += 1;
    }
    word
}

/// The set of [`SYSTEM_FLAGS`] (bit `i` for flag `i`) a flag list (single spaces between)
/// names, when it names system flags alone; repeats fold. Here rather than beside the
/// engine's flag type: one or two per message of a header sync, and this crate is built
/// for speed (lib.rs).
#[inline(never)]
pub fn system_flag_set(list: &[u8]) -> Option<u8> {
    list.split(|&b| b == b' ')
        .filter(|flag| !flag.is_empty())
        .try_fold(0, |set, flag| Some(set | 1 << system_flag(flag)?))
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    /// Arrays, not slices: the comparison is then fixed-size loads, whatever the opt-level
    /// (chosen when this code was built at "z", where `strip_prefix` was a chain of calls).
    fn tag<const N: usize>(&mut self, tag: &[u8; N]) -> Option<()> {
        let (head, tail) = self.0.split_first_chunk::<N>()?;
        (head == tag).then(|| self.0 = tail)
    }

    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(count)?;
        self.0 = tail;
        Some(head)
    }

    /// `1*DIGIT` as a u32, as imap-codec's `number`.
    fn number(&mut self) -> Option<u32> {
        let digits = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        digits_value(self.take(digits)?)
    }

    /// Flags up to the closing parenthesis: `\`? atom, single spaces between.
    fn flag_list(&mut self) -> Option<&'a [u8]> {
        let end = memchr::memchr(b')', self.0)?;
        let list = self.take(end)?;
        self.tag(b")")?;
        let valid = list.is_empty()
            || list.split(|&b| b == b' ').all(|flag| {
                let atom = flag.strip_prefix(b"\\").unwrap_or(flag);
                !atom.is_empty() && atom.iter().all(|&b| is_atom_char(b))
            });
        valid.then_some(list)
    }

    /// `{L}\r\n` and the L bytes after it (the `{` already read); no NUL, as imap-codec.
    fn literal(&mut self) -> Option<&'a [u8]> {
        let length = self.number()?;
        self.tag(b"}\r\n")?;
        let bytes = self.take(usize::try_from(length).ok()?)?;
        memchr::memchr(0, bytes).is_none().then_some(bytes)
    }

    /// `dd-Mon-yyyy hh:mm:ss +zzzz"` (the opening quote already read), in milliseconds.
    fn date_time(&mut self) -> Option<i64> {
        let text: &[u8; 27] = self.take(27)?.try_into().ok()?;
        let day = match text[0] {
            b' ' => digits_value(&text[1..2])?,
            _ => digits_value(&text[0..2])?,
        };
        let month = month(&text[3..6])?;
        let year = digits_value(&text[7..11])?;
        let separators = [(2, b'-'), (6, b'-'), (11, b' ')];
        let framed = separators.iter().all(|&(at, byte)| text[at] == byte) && text[26] == b'"';
        let time = clock_and_zone(&text[12..26])?;
        framed.then_some(())?;
        Some(utc_seconds(year, month, day, time)? * 1000)
    }
}

/// `hh:mm:ss +zzzz` (14 bytes) as ((hour, minute, second), zone sign, zone hours, zone
/// minutes).
type ClockAndZone = ((u32, u32, u32), i64, u32, u32);

pub(crate) fn clock_and_zone(text: &[u8]) -> Option<ClockAndZone> {
    let text: &[u8; 14] = text.try_into().ok()?;
    if (text[2], text[5], text[8]) != (b':', b':', b' ') {
        return None;
    }
    let sign = match text[9] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    Some((
        (
            two_digits([text[0], text[1]])?,
            two_digits([text[3], text[4]])?,
            two_digits([text[6], text[7]])?,
        ),
        sign,
        two_digits([text[10], text[11]])?,
        two_digits([text[12], text[13]])?,
    ))
}

/// Two digits without `digits_value`'s loop and overflow checks: five per date.
fn two_digits([tens, ones]: [u8; 2]) -> Option<u32> {
    let (tens, ones) = (tens.wrapping_sub(b'0'), ones.wrapping_sub(b'0'));
    (tens < 10 && ones < 10).then(|| u32::from(tens * 10 + ones))
}

/// Seconds since the Unix epoch of a local date and time with its zone, when every part is
/// in range (no leap seconds, zones within a day).
pub(crate) fn utc_seconds(year: u32, month: u32, day: u32, time: ClockAndZone) -> Option<i64> {
    let ((hour, minute, second), sign, zone_hours, zone_minutes) = time;
    let valid = (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
        && zone_hours < 24
        && zone_minutes < 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let local = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(local - sign * i64::from(zone_hours * 3600 + zone_minutes * 60))
}

pub(crate) fn digits_value(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |value, &digit| {
        let digit = digit.checked_sub(b'0').filter(|d| *d < 10)?;
        value.checked_mul(10)?.checked_add(u32::from(digit))
    })
}

/// RFC 3501 ATOM-CHAR: CHAR except atom-specials (`(){ %*"\]`, controls).
fn is_atom_char(byte: u8) -> bool {
    matches!(byte, 0x21..=0x7e)
        && !matches!(byte, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// The month's number from its name in any case, its [`folded_word`] among twelve (two
/// dates per message; by bytes this was 2 % of the wasm receive path).
pub fn month(name: &[u8]) -> Option<u32> {
    const MONTHS: [u64; 12] = [
        folded_word(b"jan"),
        folded_word(b"feb"),
        folded_word(b"mar"),
        folded_word(b"apr"),
        folded_word(b"may"),
        folded_word(b"jun"),
        folded_word(b"jul"),
        folded_word(b"aug"),
        folded_word(b"sep"),
        folded_word(b"oct"),
        folded_word(b"nov"),
        folded_word(b"dec"),
    ];
    let folded = folded_word(Some(name).filter(|name| name.len() == 3)?);
    let index = MONTHS.iter().position(|&month| month == folded)?;
    u32::try_from(index + 1).ok()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_named_in_any_case_and_nothing_else_is() {
        let names = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        // Every byte in every place of every name, against a plain case-insensitive match.
        for name in names {
            for at in 0..3 {
                for b in 0..=u8::MAX {
                    let mut spelled = *<&[u8; 3]>::try_from(name.as_bytes()).unwrap();
                    spelled[at] = b;
                    let expected = names
                        .iter()
                        .position(|n| n.as_bytes().eq_ignore_ascii_case(&spelled))
                        .map(|index| index as u32 + 1);
                    assert_eq!(month(&spelled), expected, "{spelled:?}");
                }
            }
        }
        assert_eq!(month(b"ja"), None);
        assert_eq!(month(b"janu"), None);
    }

    #[test]
    fn system_flags_are_named_in_any_case_and_nothing_else_is() {
        let expected = |flag: &[u8]| {
            let name = flag.strip_prefix(b"\\")?;
            SYSTEM_FLAGS
                .iter()
                .position(|n| n.eq_ignore_ascii_case(name))
        };
        // Every byte in every place of every name, against a plain case-insensitive match.
        for (index, name) in SYSTEM_FLAGS.iter().enumerate() {
            let flag = [b"\\", *name].concat();
            assert_eq!(system_flag(&flag), Some(index));
            for at in 0..flag.len() {
                for b in 0..=u8::MAX {
                    let mut spelled = flag.clone();
                    spelled[at] = b;
                    assert_eq!(system_flag(&spelled), expected(&spelled), "{spelled:?}");
                }
            }
            assert_eq!(system_flag(&flag[..flag.len() - 1]), None);
            assert_eq!(system_flag(&[&flag[..], b"\0"].concat()), None);
        }
        assert_eq!(system_flag(b"\\"), None);
        assert_eq!(system_flag_set(b"\\Seen \\Draft \\seen"), Some(0b1_0001));
        assert_eq!(system_flag_set(b""), Some(0));
        assert_eq!(system_flag_set(b"\\Seen $Junk"), None);
    }

    #[test]
    fn anything_else_takes_the_generic_path() {
        for message in [
            &b"* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n"[..],
            b"* 1 FETCH (UID 1  BODY[HEADER] {0}\r\n)\r\n",
            b"* 1 FETCH (UID 1 UID 2 BODY[HEADER] {0}\r\n)\r\n",
            b"* 1 FETCH (UID 1 BODY[HEADER] NIL)\r\n",
            b"* 1 FETCH (UID 1 BODY[HEADER] {3}\r\na\0b)\r\n",
            b"* 1 FETCH (UID 1 BODY[HEADER] {9}\r\nab)\r\n",
            b"* 1 FETCH (UID 0 BODY[HEADER] {0}\r\n)\r\n",
            b"* 0 FETCH (UID 1 BODY[HEADER] {0}\r\n)\r\n",
            b"* 1 FETCH (UID 1 FLAGS (\\*) BODY[HEADER] {0}\r\n)\r\n",
            b"* 1 FETCH (UID 1 FLAGS (a  b) BODY[HEADER] {0}\r\n)\r\n",
            b"* 1 FETCH (UID 1 INTERNALDATE \"30-Feb-2000 00:00:00 +0000\" BODY[HEADER] {0}\r\n)\r\n",
            b"* 1 FETCH (UID 1 INTERNALDATE \"01-Feb-2000 24:00:00 +0000\" BODY[HEADER] {0}\r\n)\r\n",
            b"* 1 FETCH (UID 99999999999 BODY[HEADER] {0}\r\n)\r\n",
            b"* 1 FETCH (UID 1 BODY[HEADER] {0}\r\n)\r\nx",
        ] {
            assert_eq!(parse(message), None, "{message:?}");
        }
    }
}
