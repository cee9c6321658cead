//! zizhi's HTTP interfaces: server-rendered pages (Chinese first, English by choice), the JSON
//! API under `/api/v1`, configuration and serving.

pub mod cases;
pub mod certificates;
pub mod config;
pub mod http;
pub mod platform;
pub mod routes;
mod views;

pub use http::{ctx, error, extract, i18n};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use zizhi_app::App;
use zizhi_store::Db;
use zizhi_store::files::FileStore;

pub use config::Config;

/// What every handler shares: one allocation, so that handing it to a handler is one
/// reference count (axum clones the state for every request; issue 14).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The state's contents.
pub struct Shared {
    pub app: App,
    pub config: Arc<Config>,
    pub limiter: Arc<ctx::LoginLimiter>,
    /// Staff single sign-on, when configured (validated with the configuration).
    pub oidc: Option<Arc<config::OidcSettings>>,
}

impl AppState {
    /// The state for tests and tools: the documents' settings from the configuration, or — if
    /// they cannot be read — a temporary signing key (`start` never falls back: it fails).
    pub fn new(db: Db, files: FileStore, config: Config) -> AppState {
        let documents = config.documents().unwrap_or_else(|e| {
            tracing::error!(error = %e, "certificate documents: a temporary key is used");
            zizhi_app::documents::certificate::DocumentSettings::default()
        });
        AppState::with_documents(db, files, config, documents)
    }

    pub fn with_documents(
        db: Db,
        files: FileStore,
        config: Config,
        documents: zizhi_app::documents::certificate::DocumentSettings,
    ) -> AppState {
        zizhi_app::secrets::configure_hasher(
            config.password_hash_threads as usize,
            config.password_hash_queue as usize,
        );
        let oidc = config.oidc().ok().flatten().map(Arc::new);
        let app = App::new(db, files, config.app_config()).with_documents(documents);
        AppState(Arc::new(Shared {
            app,
            config: Arc::new(config),
            limiter: Arc::new(ctx::LoginLimiter::default()),
            oidc,
        }))
    }
}

/// The whole application as a router.
pub fn router(state: AppState) -> Router {
    let (with_ctx, bare) = routes::routers();
    let with_ctx = with_ctx.layer(middleware::from_fn_with_state(state.clone(), ctx::context));
    with_ctx
        .merge(bare)
        .fallback(
            |uri: axum::http::Uri, headers: axum::http::HeaderMap| async move {
                error::Failure::not_found(
                    i18n::negotiate(&headers),
                    uri.path().starts_with("/api/"),
                )
            },
        )
        .layer(middleware::from_fn(ctx::security_headers))
        .with_state(state)
}

/// A started server.
pub struct Server {
    pub addr: SocketAddr,
    /// The one-time administrator password, when this start created the administrator.
    pub bootstrap: Option<(String, String)>,
    /// How many short reads run at once on PostgreSQL (`pg_reads_at_once`); `None` on SQLite.
    pub pg_reads_at_once: Option<usize>,
    listener: tokio::net::TcpListener,
    state: AppState,
}

/// Prepares the data directory and database (migrating), creates the first administrator if
/// there are no users, and binds the listener.
pub async fn start(config: Config) -> Result<Server, String> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        format!(
            "cannot create data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let db = Db::connect_with(&config.database_url(), config.pg_reads_at_once())
        .await
        .map_err(|e| format!("database: {e}"))?;
    db.migrate().await.map_err(|e| format!("migrations: {e}"))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let files = config.evidence_store().await?;
    let documents = config.documents()?;
    let pg_reads_at_once = db.pg_reads_at_once();
    let state = AppState::with_documents(db, files, config, documents);
    let bootstrap = state
        .app
        .bootstrap_admin()
        .await
        .map_err(|e| format!("bootstrap: {e}"))?;
    Ok(Server {
        addr,
        bootstrap,
        pg_reads_at_once,
        listener,
        state,
    })
}

impl Server {
    /// Serves until ctrl-c / SIGTERM.
    pub async fn run(self) -> Result<(), String> {
        let worker = format!("{}-{}", self.addr, std::process::id());
        let _mail = self
            .state
            .app
            .spawn_mail_worker(worker.clone(), Duration::from_secs(2));
        // The scheduler (issue 11): lapsed supplements, overdue rectifications. Each job takes
        // its lease first, so several servers on one database run it once per period.
        let app = self.state.app.clone();
        let runner = worker.clone();
        tokio::spawn(async move {
            loop {
                match app.run_jobs_once(&runner).await {
                    Ok(runs) => {
                        for r in runs.iter().filter(|r| r.done.is_some_and(|n| n > 0)) {
                            tracing::info!(job = r.job, done = r.done, "scheduled job ran");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "scheduled jobs failed"),
                }
                tokio::time::sleep(Duration::from_secs(300)).await;
            }
        });
        // Stored bytes whose row never committed (a crash in between), once at start; an hour
        // old at least, so another server's upload in flight is left alone (issue 12).
        let app = self.state.app.clone();
        tokio::spawn(async move {
            match app.remove_orphan_objects(Duration::from_secs(3600)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "orphaned evidence objects removed"),
                Err(e) => tracing::warn!(error = %e, "orphaned evidence clean-up failed"),
            }
        });
        let app = self.state.app.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(600)).await;
                let _ = app.purge_expired_sessions().await;
            }
        });
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async {
                let ctrl_c = tokio::signal::ctrl_c();
                #[cfg(unix)]
                {
                    let mut term =
                        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                            .expect("signal handler");
                    tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
                }
                #[cfg(not(unix))]
                let _ = ctrl_c.await;
            })
            .await
            .map_err(|e| e.to_string())
    }
}
