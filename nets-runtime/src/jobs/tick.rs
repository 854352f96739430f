//! [`Tick`]: when an idle worker looks for new jobs again.
//!
//! apalis' own `IntervalStrategy` (`poll_with_interval`) arms the next delay when one
//! fires but does not poll it, so the worker's task is not registered with it. When the
//! wake-up of the delay and the end of a fetch reach the task in the same poll (a fetch
//! slower than the interval, or a busy runtime), the fetch finds nothing, the backend
//! parks the task, and nothing but the next heartbeat wakes it: a queued e-mail — a
//! login code — waited up to `NETS_CORE_JOBS_HEARTBEAT_SECONDS` (30 s by default)
//! instead of `NETS_CORE_JOBS_POLL_MS`. Seen as a job that ran 30 s late in 5 of 136
//! runs of the avatar test's file. `Tick` registers the task with every delay it arms.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis::prelude::{PollSnapshot, PollStrategy};
use tokio::time::{Instant, Sleep};

/// Wakes the worker's poller every `every`, on Tokio's timer.
#[derive(Debug)]
pub(super) struct Tick {
    every: Duration,
    next: Pin<Box<Sleep>>,
}

impl Tick {
    pub(super) fn every(every: Duration) -> Tick {
        Tick { every, next: Box::pin(tokio::time::sleep(every)) }
    }
}

impl Clone for Tick {
    /// A clone starts its own period.
    fn clone(&self) -> Tick {
        Tick::every(self.every)
    }
}

impl PollStrategy for Tick {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        if self.next.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        // The next tick, registered now: whatever the backend does with this poll, this
        // task is woken when it comes.
        self.next.as_mut().reset(Instant::now() + self.every);
        let _ = self.next.as_mut().poll(cx);
        Poll::Ready(Some(()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    use super::*;

    /// Counts its wake-ups.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_fired_tick_wakes_the_task_at_the_next_one_without_another_poll() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let snapshot = PollSnapshot::default();
        let mut tick = Tick::every(Duration::from_millis(200));

        assert!(tick.poll_drive(&mut cx, &snapshot).is_pending());
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the first tick woke the task");
        // The one poll after that wake-up, as the worker makes it when a fetch ends at
        // the same time: the tick fires, and the task is parked without polling it again.
        assert!(tick.poll_drive(&mut cx, &snapshot).is_ready());
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(count.0.load(Ordering::SeqCst), 2, "the next tick woke the task by itself");
    }
}
