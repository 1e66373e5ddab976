//! The search benchmark (not a timed test): fills an embedded message store
//! with `--messages` messages (1,000,000 by default) through the store's own
//! insert, so the FTS5 index is maintained exactly as in production, then
//! runs each query shape `--runs` times through the message service's rules
//! (search, reply and reaction decoration, match offsets) and prints p50/p99
//! per query.
//!
//! `chat-search-bench [--messages N] [--runs N] [--rooms N] [--searched N] [--db PATH]`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_message::model::Message;
use chat_message::rules::Limits;
use chat_message::service::Messages;
use chat_message::store::{EmbeddedStore, Store};

/// A small deterministic generator: the same data on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ré", "su", "ta", "vé", "no", "pa", "ri", "do", "lu", "ché", "an", "ber",
    "col", "dor", "fin", "gar", "hul", "is", "jon", "mar", "tel",
];

/// A vocabulary of made-up words (some accented); word `i` is drawn with a
/// skewed distribution so a few words are common and most are rare, as in
/// real chat.
fn vocabulary(rng: &mut XorShift, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let parts = 2 + rng.below(3);
            (0..parts)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect()
}

fn skewed(rng: &mut XorShift, n: usize) -> usize {
    // The square of a uniform draw favours low indexes (~Zipf-ish).
    let u = rng.below(1 << 20) as f64 / f64::from(1 << 20);
    ((u * u) * n as f64) as usize
}

struct Opts {
    messages: usize,
    runs: usize,
    rooms: usize,
    searched: usize,
    db: Option<PathBuf>,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        messages: 1_000_000,
        runs: 200,
        rooms: 100,
        searched: 10,
        db: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let num = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--messages" => o.messages = num()?,
            "--runs" => o.runs = num()?,
            "--rooms" => o.rooms = num()?,
            "--searched" => o.searched = num()?,
            "--db" => o.db = Some(PathBuf::from(&value)),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if o.rooms == 0 || o.searched == 0 || o.searched > o.rooms || o.runs == 0 {
        return Err("need 1 <= --searched <= --rooms and --runs >= 1".into());
    }
    Ok(o)
}

async fn fill(store: &Arc<dyn Store>, o: &Opts, words: &[String]) -> Result<(), String> {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let start = Instant::now();
    let base_ts = 1_700_000_000_000_i64;
    for i in 0..o.messages {
        let len = 3 + rng.below(15);
        let content: Vec<&str> = (0..len)
            .map(|_| words[skewed(&mut rng, words.len())].as_str())
            .collect();
        let message = Message {
            id: format!("{:016x}-{i:08}", base_ts + i as i64),
            room: format!("room{}", rng.below(o.rooms)),
            sender: format!("user{}", rng.below(1000)),
            content: content.join(" "),
            avatar_media_id: None,
            ts: base_ts + i as i64,
            client_id: None,
            attachments: Vec::new(),
            edited_at: None,
            deleted: false,
            reply_to: None,
            reply: None,
            reactions: Vec::new(),
        };
        store.insert(message).await.map_err(|e| e.to_string())?;
        if (i + 1) % 100_000 == 0 {
            eprintln!("filled {} messages in {:.0?}", i + 1, start.elapsed());
        }
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let o = parse()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path =
        o.db.clone()
            .unwrap_or_else(|| dir.path().join("message.sqlite3"));
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let words = vocabulary(&mut rng, 20_000);
    let store: Arc<dyn Store> = Arc::new(
        EmbeddedStore::open(&path)
            .await
            .map_err(|e| e.to_string())?,
    );
    let existing = store
        .scan("room0", &chat_message::model::Scan::Older(None), 1)
        .await
        .map_err(|e| e.to_string())?;
    if existing.is_empty() {
        fill(&store, &o, &words).await?;
    } else {
        eprintln!("reusing the messages already in {}", path.display());
    }
    let limits = Limits {
        max_message_chars: 4000,
        history_default_limit: 50,
        history_max_limit: 200,
    };
    let messages = Messages::new(store, limits);
    let rooms: Vec<String> = (0..o.searched).map(|r| format!("room{r}")).collect();
    let common = &words[0];
    let rare = &words[words.len() - 1];
    let queries: Vec<(&str, String)> = vec![
        ("common word", common.clone()),
        ("rare word", rare.clone()),
        ("two common words", format!("{} {}", words[0], words[1])),
        ("prefix of 2 letters", "ka".into()),
        ("prefix of 4 letters", words[3].chars().take(4).collect()),
        ("accent-folded", fold_display(&words[2])),
        ("no match", "zzzzqqq".into()),
    ];
    println!(
        "search over {} messages in {} rooms; {} rooms searched, limit 20, {} runs each",
        o.messages, o.rooms, o.searched, o.runs
    );
    println!("| query | text | results | p50 | p99 |");
    println!("|---|---|---|---|---|");
    for (what, q) in &queries {
        let mut times = Vec::with_capacity(o.runs);
        let mut found = 0;
        for _ in 0..o.runs {
            let t = Instant::now();
            let (hits, _) = messages
                .search(q, &rooms, None, 20)
                .await
                .map_err(|e| e.to_string())?;
            times.push(t.elapsed());
            found = hits.len();
        }
        times.sort();
        println!(
            "| {what} | `{q}` | {found} | {:.2?} | {:.2?} |",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
    Ok(())
}

/// The query as a person types it: upper case, no accents.
fn fold_display(word: &str) -> String {
    chat_message::text::fold(word).to_uppercase()
}
