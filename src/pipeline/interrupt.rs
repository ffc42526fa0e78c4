//! SIGINT and SIGTERM: stop starting pages, give those in flight a grace period, keep the rest.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

/// Set once a signal arrives.
#[derive(Clone, Default)]
pub struct Interrupt {
    stop: Arc<AtomicBool>,
    signal: Arc<AtomicI32>,
}

impl Interrupt {
    /// Starts listening for SIGINT and SIGTERM.
    pub fn listen() -> Interrupt {
        let interrupt = Interrupt::default();
        let (stop, signal) = (interrupt.stop.clone(), interrupt.signal.clone());
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal as unix_signal};
                let (Ok(mut int), Ok(mut term)) = (
                    unix_signal(SignalKind::interrupt()),
                    unix_signal(SignalKind::terminate()),
                ) else {
                    return;
                };
                let which = tokio::select! { _ = int.recv() => 2, _ = term.recv() => 15 };
                signal.store(which, Ordering::SeqCst);
            }
            #[cfg(not(unix))]
            {
                let _ = tokio::signal::ctrl_c().await;
                signal.store(2, Ordering::SeqCst);
            }
            stop.store(true, Ordering::SeqCst);
        });
        interrupt
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The signal that arrived (2 = SIGINT, 15 = SIGTERM), if one did.
    pub fn signal(&self) -> Option<i32> {
        let sig = self.signal.load(Ordering::SeqCst);
        (sig != 0).then_some(sig)
    }

    /// Resolves `grace` after the stop.
    pub async fn grace_over(&self, grace: Duration) {
        while !self.stopped() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(grace).await;
    }
}
