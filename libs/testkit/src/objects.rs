//! The object store in tests: a bucket of the test's own in the shared local
//! store (`dev/object-store up`), or a store of the test's own that it may
//! stop and start.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use object_store::ObjectStore;
use orch_objects::{Endpoint, ObjectStoreConfig, Objects};

/// The shared local store (`OBJECT_STORE_URL`, default http://127.0.0.1:8333).
pub fn object_store_url() -> String {
    std::env::var("OBJECT_STORE_URL").unwrap_or_else(|_| "http://127.0.0.1:8333".into())
}

/// A bucket name for a test namespace (`t<12 hex>.` → `t<12 hex>`).
pub fn bucket_name(prefix: &str) -> String {
    prefix.trim_end_matches('.').replace(['.', '_'], "-")
}

/// A new, empty bucket of the test's own in the store at `url`, with the
/// prefix `orchestrator`.
pub async fn create_bucket_at(url: &str, prefix: &str) -> ObjectStoreConfig {
    let config =
        ObjectStoreConfig::local(&bucket_name(prefix), "orchestrator", Endpoint::local(url));
    let objects = Objects::connect(&config).expect("object store client");
    // The local store creates a bucket on its first write (for an admin
    // identity): write a marker, so the bucket can be listed at once.
    let marker = object_store::path::Path::from(".created");
    let deadline = Instant::now() + crate::PATIENCE;
    loop {
        match objects.s3().put(&marker, "".into()).await {
            Ok(_) => break,
            Err(error) if Instant::now() < deadline => {
                eprintln!("object store not ready ({error}); retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => panic!(
                "could not create bucket {} at {url} (is `dev/object-store up` running?): {error}",
                bucket_name(prefix)
            ),
        }
    }
    config
}

/// A new bucket in the shared local store.
pub async fn create_bucket(prefix: &str) -> ObjectStoreConfig {
    create_bucket_at(&object_store_url(), prefix).await
}

/// A SeaweedFS of the test's own (the binary `dev/object-store` built), on
/// its own ports and directory; killed and wiped when dropped.
#[derive(Debug)]
pub struct OwnObjectStore {
    dir: PathBuf,
    ports: [u16; 8],
    child: Option<Child>,
}

impl OwnObjectStore {
    /// Starts a new store and waits until its S3 API answers.
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "orch-object-store-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(dir.join("data")).expect("object store directory");
        let mut store = Self {
            dir,
            ports: std::array::from_fn(|_| crate::free_port()),
            child: None,
        };
        store.up();
        store
    }

    /// Its S3 endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[0])
    }

    /// Starts it again after `kill`, with its data.
    pub fn up(&mut self) {
        assert!(self.child.is_none(), "the store is already running");
        let weed = Command::new(crate::repo_root().join("dev/object-store"))
            .arg("path")
            .output()
            .expect("run dev/object-store path");
        let weed = String::from_utf8_lossy(&weed.stdout).trim().to_owned();
        assert!(
            std::path::Path::new(&weed).exists(),
            "{weed} is missing; build it with: dev/object-store install"
        );
        std::fs::write(
            self.dir.join("s3.json"),
            format!(
                r#"{{"identities":[{{"name":"test","credentials":[{{"accessKey":"{}","secretKey":"{}"}}],"actions":["Admin","Read","List","Tagging","Write"]}}]}}"#,
                orch_objects::LOCAL_ACCESS_KEY_ID,
                orch_objects::LOCAL_SECRET_ACCESS_KEY
            ),
        )
        .expect("write s3.json");
        let [
            s3,
            s3_grpc,
            master,
            master_grpc,
            volume,
            volume_grpc,
            filer,
            filer_grpc,
        ] = self.ports;
        let log = std::fs::File::create(self.dir.join("weed.log")).expect("weed log");
        let child = Command::new(weed)
            .arg("mini")
            .arg(format!("-dir={}", self.dir.join("data").display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(format!("-s3.config={}", self.dir.join("s3.json").display()))
            .args([
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-webdav=false",
                "-admin.ui=false",
            ])
            .arg(format!("-s3.port={s3}"))
            .arg(format!("-s3.port.grpc={s3_grpc}"))
            .arg(format!("-master.port={master}"))
            .arg(format!("-master.port.grpc={master_grpc}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-volume.port.grpc={volume_grpc}"))
            .arg(format!("-filer.port={filer}"))
            .arg(format!("-filer.port.grpc={filer_grpc}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start SeaweedFS");
        self.child = Some(child);
        let deadline = Instant::now() + crate::PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", s3)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the test's object store did not listen; see {}",
                self.dir.join("weed.log").display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops it in order (SIGTERM) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            let _ = child.wait();
        }
    }

    /// Crashes it (SIGKILL) and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether it is running.
    pub fn running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for OwnObjectStore {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
