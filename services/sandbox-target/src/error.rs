/// Why the sandbox target could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The listen address could not be bound or served.
    #[error("could not serve HTTP")]
    Http(#[from] std::io::Error),
}
