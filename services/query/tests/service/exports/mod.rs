//! Export jobs: bad requests, a million rows in bounded memory, a killed
//! worker's job taken over.

mod bad_requests;
mod million;
mod takeover;
