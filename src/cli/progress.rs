//! Apply's progress on stderr, the two `engine::Progress` renderers: `LiveLine` on a terminal
//! (one line redrawn every second: what is being waited for, its last status, the time spent)
//! and `PeriodicLines` elsewhere (CI logs: plain lines, at most one per waiting resource every
//! 10 s, plus a line when its status moves).
//!
//! Both print the same permanent lines when a step starts and ends
//! (`+ DatabaseService/orders-db: creating`, `+ DatabaseService/orders-db: created in 12s`).
//! Only addresses, statuses, times and the API's error messages are printed: never a request
//! body, so never a secret.

use crate::engine::{Progress, StepOutcome, StepReport};
use crate::manifest::model::Address;
use crate::plan::model::Action;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often CI logs get a line about a resource still being waited for.
pub const CI_INTERVAL: Duration = Duration::from_secs(10);

/// The renderer for stderr: a live line on a terminal, periodic lines otherwise.
pub fn for_stderr(is_terminal: bool) -> Box<dyn Progress> {
    if is_terminal {
        Box::new(LiveLine::start(std::io::stderr(), Width::Stderr))
    } else {
        Box::new(PeriodicLines::new(std::io::stderr(), CI_INTERVAL))
    }
}

/// How wide the live line may be: a line that wraps cannot be redrawn in place, so it is cut
/// to fit.
#[derive(Clone, Copy, Debug)]
pub enum Width {
    /// Always this many columns (tests).
    Fixed(usize),
    /// The terminal stderr writes to, asked at every redraw (a window can be resized).
    Stderr,
}

/// Columns assumed when the terminal cannot tell its size.
const FALLBACK_COLUMNS: usize = 100;

impl Width {
    fn columns(self) -> usize {
        match self {
            Width::Fixed(columns) => columns,
            Width::Stderr => columns(terminal_size::terminal_size_of(std::io::stderr())),
        }
    }
}

/// The width of a terminal that answered `size`; 100 when it did not, or answered fewer than
/// 20 columns (a pseudo-terminal that reports 0).
fn columns(size: Option<(terminal_size::Width, terminal_size::Height)>) -> usize {
    size.map(|(terminal_size::Width(w), _)| usize::from(w))
        .filter(|&w| w >= 20)
        .unwrap_or(FALLBACK_COLUMNS)
}

/// `creating`, `updating`, `replacing`, `deleting`.
fn doing(action: &Action) -> &'static str {
    match action {
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace { .. } => "replacing",
        Action::Delete { .. } => "deleting",
    }
}

/// `created`, `updated`, `replaced`, `deleted`.
fn done(action: &Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace { .. } => "replaced",
        Action::Delete { .. } => "deleted",
    }
}

/// `+ DatabaseService/orders-db: creating`.
fn started_line(address: &Address, action: &Action) -> String {
    format!("{} {address}: {}", action.symbol(), doing(action))
}

/// The line that ends a step, e.g. `+ DatabaseService/orders-db: created in 12s`.
pub fn finished_line(report: &StepReport) -> String {
    let head = format!("{} {}", report.action.symbol(), report.address);
    let elapsed = human(Duration::from_millis(report.elapsed_ms));
    match &report.outcome {
        StepOutcome::Done if report.resumed => {
            format!("{head}: ready after {elapsed} (resumed: an earlier run had started it)")
        }
        StepOutcome::Done if report.adopted => format!(
            "{head}: {} in {elapsed} (adopted: found by identity, an earlier run had made it)",
            done(&report.action)
        ),
        StepOutcome::Done => format!("{head}: {} in {elapsed}", done(&report.action)),
        StepOutcome::Failed { message, .. } => format!("{head}: failed after {elapsed}: {message}"),
        StepOutcome::Skipped { because } => format!("{head}: skipped ({because} did not finish)"),
        StepOutcome::InProgress { last_status } => {
            format!("{head}: still {last_status} after {elapsed} (wait budget spent)")
        }
    }
}

/// `0.3s`, `4.2s`, `12s`, `3m05s`, `1h02m`.
pub fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 10 {
        format!("{:.1}s", duration.as_secs_f64())
    } else if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// CI: plain lines. A waiting resource gets a line when its wait has gone on `interval` more
/// since its last line, or when its status moved since a line was printed for it.
pub struct PeriodicLines<W: Write + Send> {
    out: Mutex<PeriodicState<W>>,
    interval: Duration,
}

struct PeriodicState<W> {
    out: W,
    /// Per waiting resource: the elapsed time and status of its last line.
    last: BTreeMap<Address, (Duration, String)>,
}

impl<W: Write + Send> PeriodicLines<W> {
    pub fn new(out: W, interval: Duration) -> PeriodicLines<W> {
        PeriodicLines {
            out: Mutex::new(PeriodicState {
                out,
                last: BTreeMap::new(),
            }),
            interval,
        }
    }

    /// The writer back (tests).
    pub fn into_inner(self) -> W {
        self.out.into_inner().unwrap_or_else(|e| e.into_inner()).out
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PeriodicState<W>> {
        self.out.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<W: Write + Send> Progress for PeriodicLines<W> {
    fn step_started(&self, address: &Address, action: &Action) {
        let mut state = self.state();
        let _ = writeln!(state.out, "{}", started_line(address, action));
    }

    fn waiting(&self, address: &Address, status: &str, elapsed: Duration) {
        let mut state = self.state();
        let due = match state.last.get(address) {
            None => elapsed >= self.interval,
            Some((at, last_status)) => {
                last_status != status || elapsed.saturating_sub(*at) >= self.interval
            }
        };
        if due {
            let _ = writeln!(
                state.out,
                "  {address}: waiting, {status} after {}",
                human(elapsed)
            );
            state
                .last
                .insert(address.clone(), (elapsed, status.to_string()));
        }
    }

    fn step_finished(&self, report: &StepReport) {
        let mut state = self.state();
        state.last.remove(&report.address);
        let _ = writeln!(state.out, "{}", finished_line(report));
    }
}

/// A terminal: permanent lines for steps starting and ending, and below them one line redrawn
/// every second while something is waited for:
/// `waiting for 2: DatabaseService/orders-db CREATING 12s, DatabaseUser/app CREATING 3.1s`.
pub struct LiveLine<W: Write + Send + 'static> {
    shared: Arc<LiveShared<W>>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

struct LiveShared<W> {
    state: Mutex<LiveState<W>>,
    width: Width,
}

struct LiveState<W> {
    out: W,
    /// Per waiting resource: its last status and when its wait started.
    waiting: BTreeMap<Address, (String, Instant)>,
    /// A live line is on screen (to be erased before anything else is printed).
    drawn: bool,
    stopped: bool,
}

impl<W: Write + Send + 'static> LiveLine<W> {
    /// Starts the renderer and its one-second redraw.
    pub fn start(out: W, width: Width) -> LiveLine<W> {
        let shared = Arc::new(LiveShared {
            state: Mutex::new(LiveState {
                out,
                waiting: BTreeMap::new(),
                drawn: false,
                stopped: false,
            }),
            width,
        });
        let ticking = shared.clone();
        let ticker = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_secs(1));
                let mut state = ticking.lock();
                if state.stopped {
                    return;
                }
                ticking.redraw(&mut state);
            })
            .ok();
        LiveLine { shared, ticker }
    }
}

impl<W: Write + Send> LiveShared<W> {
    fn lock(&self) -> std::sync::MutexGuard<'_, LiveState<W>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn erase(&self, state: &mut LiveState<W>) {
        if state.drawn {
            let _ = write!(state.out, "\r\x1b[2K");
            state.drawn = false;
        }
    }

    fn redraw(&self, state: &mut LiveState<W>) {
        self.erase(state);
        if state.waiting.is_empty() {
            let _ = state.out.flush();
            return;
        }
        let mut waiting: Vec<_> = state.waiting.iter().collect();
        // The longest wait first: what the run is really waiting for.
        waiting.sort_by_key(|(_, (_, since))| *since);
        let items: Vec<String> = waiting
            .iter()
            .map(|(address, (status, since))| {
                format!("{address} {status} {}", human(since.elapsed()))
            })
            .collect();
        let line = format!("waiting for {}: {}", items.len(), items.join(", "));
        let line = cut(&line, self.width.columns().saturating_sub(1));
        let _ = write!(state.out, "{line}");
        let _ = state.out.flush();
        state.drawn = true;
    }

    fn println(&self, text: &str) {
        let mut state = self.lock();
        self.erase(&mut state);
        let _ = writeln!(state.out, "{text}");
        self.redraw(&mut state);
    }
}

/// `text` cut to `width` characters, ending with `...` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept: String = text.chars().take(width.saturating_sub(3)).collect();
    format!("{kept}...")
}

impl<W: Write + Send + 'static> Progress for LiveLine<W> {
    fn step_started(&self, address: &Address, action: &Action) {
        self.shared.println(&started_line(address, action));
    }

    fn waiting(&self, address: &Address, status: &str, elapsed: Duration) {
        let shared = &self.shared;
        let mut state = shared.lock();
        let since = Instant::now()
            .checked_sub(elapsed)
            .unwrap_or_else(Instant::now);
        state
            .waiting
            .insert(address.clone(), (status.to_string(), since));
        shared.redraw(&mut state);
    }

    fn step_finished(&self, report: &StepReport) {
        self.shared.lock().waiting.remove(&report.address);
        self.shared.println(&finished_line(report));
    }
}

impl<W: Write + Send + 'static> Drop for LiveLine<W> {
    /// Stops the redraw and erases the live line, leaving only the permanent lines.
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.stopped = true;
            state.waiting.clear();
            self.shared.erase(&mut state);
            let _ = state.out.flush();
        }
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::Kind;

    fn address(kind: Kind, name: &str) -> Address {
        Address {
            kind,
            name: name.into(),
        }
    }

    fn report(outcome: StepOutcome, adopted: bool) -> StepReport {
        StepReport {
            address: address(Kind::DatabaseService, "orders-db"),
            action: Action::Create,
            outcome,
            live_id: Some("id-1".into()),
            elapsed_ms: 12_400,
            adopted,
            warnings: Vec::new(),
            resumed: false,
        }
    }

    #[test]
    fn ci_lines_come_every_interval_and_when_the_status_moves() {
        let progress = PeriodicLines::new(Vec::new(), Duration::from_secs(10));
        let db = address(Kind::DatabaseService, "orders-db");
        let user = address(Kind::DatabaseUser, "orders-app");
        progress.step_started(&db, &Action::Create);
        progress.step_started(&user, &Action::Update);
        for secs in [0, 2, 6, 9, 10, 12, 19, 21] {
            progress.waiting(&db, "CREATING", Duration::from_secs(secs));
        }
        progress.waiting(&db, "UPDATING", Duration::from_secs(22));
        progress.waiting(&user, "CREATING", Duration::from_millis(300));
        progress.step_finished(&report(StepOutcome::Done, false));
        progress.step_finished(&StepReport {
            address: user.clone(),
            action: Action::Update,
            outcome: StepOutcome::Failed {
                message: "service is not ready".into(),
                status: Some(409),
                class: Some("Client::Conflict::ServiceNotReady".into()),
                query_id: Some("SB.1".into()),
            },
            live_id: None,
            elapsed_ms: 800,
            adopted: false,
            warnings: Vec::new(),
            resumed: false,
        });
        let text = String::from_utf8(progress.into_inner()).unwrap();
        insta::assert_snapshot!(text, @r"
        + DatabaseService/orders-db: creating
        ~ DatabaseUser/orders-app: updating
          DatabaseService/orders-db: waiting, CREATING after 10s
          DatabaseService/orders-db: waiting, CREATING after 21s
          DatabaseService/orders-db: waiting, UPDATING after 22s
        + DatabaseService/orders-db: created in 12s
        ~ DatabaseUser/orders-app: failed after 0.8s: service is not ready
        ");
    }

    #[test]
    fn every_outcome_has_its_line() {
        let lines: Vec<String> = [
            (StepOutcome::Done, true),
            (
                StepOutcome::Skipped {
                    because: address(Kind::DatabaseService, "billing-db"),
                },
                false,
            ),
            (
                StepOutcome::InProgress {
                    last_status: "CREATING".into(),
                },
                false,
            ),
        ]
        .into_iter()
        .map(|(outcome, adopted)| finished_line(&report(outcome, adopted)))
        .chain([finished_line(&StepReport {
            action: Action::Update,
            resumed: true,
            ..report(StepOutcome::Done, false)
        })])
        .collect();
        insta::assert_snapshot!(lines.join("\n"), @r"
        + DatabaseService/orders-db: created in 12s (adopted: found by identity, an earlier run had made it)
        + DatabaseService/orders-db: skipped (DatabaseService/billing-db did not finish)
        + DatabaseService/orders-db: still CREATING after 12s (wait budget spent)
        ~ DatabaseService/orders-db: ready after 12s (resumed: an earlier run had started it)
        ");
    }

    #[test]
    fn durations_read_at_a_glance() {
        let shown: Vec<String> = [300, 4_200, 12_000, 185_000, 3_720_000]
            .into_iter()
            .map(|ms| human(Duration::from_millis(ms)))
            .collect();
        assert_eq!(shown, ["0.3s", "4.2s", "12s", "3m05s", "1h02m"]);
    }

    /// A writer the test can read while the renderer still holds it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_live_line_is_redrawn_in_place_and_erased_at_the_end() {
        let out = Shared::default();
        let progress = LiveLine::start(out.clone(), Width::Fixed(60));
        let db = address(Kind::DatabaseService, "orders-db");
        progress.step_started(&db, &Action::Create);
        progress.waiting(&db, "CREATING", Duration::from_secs(3));
        progress.waiting(
            &address(Kind::DatabaseUser, "a-user-with-a-rather-long-name"),
            "CREATING",
            Duration::from_secs(1),
        );
        progress.step_finished(&report(StepOutcome::Done, false));
        drop(progress);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let erase = "\r\x1b[2K";
        // What a terminal shows at the end: the permanent lines only.
        let last_screen: Vec<&str> = text
            .split('\n')
            .map(|line| line.rsplit(erase).next().unwrap())
            .collect();
        assert_eq!(
            last_screen,
            [
                "+ DatabaseService/orders-db: creating",
                "+ DatabaseService/orders-db: created in 12s",
                ""
            ],
            "{text:?}"
        );
        assert!(
            text.contains("waiting for 1: DatabaseService/orders-db CREATING 3.0s"),
            "{text:?}"
        );
        let longest = text
            .split(erase)
            .map(|drawn| drawn.split('\n').next().unwrap().chars().count())
            .max()
            .unwrap();
        assert!(
            longest <= 59,
            "a live line wider than the terminal: {text:?}"
        );
    }

    /// The live line follows the terminal's own size (it read `COLUMNS`, which shells do not
    /// export to programs, so it was 100 columns wide on most terminals).
    #[test]
    fn the_width_is_the_terminals_or_100_when_it_cannot_tell() {
        use terminal_size::{Height, Width as Columns};
        assert_eq!(columns(Some((Columns(132), Height(40)))), 132);
        assert_eq!(columns(Some((Columns(0), Height(0)))), 100);
        assert_eq!(columns(None), 100);
        let file = tempfile::tempfile().unwrap();
        assert_eq!(
            columns(terminal_size::terminal_size_of(&file)),
            100,
            "a file is no terminal"
        );
    }
}
