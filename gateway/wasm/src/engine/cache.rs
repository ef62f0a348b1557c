//! Compiled components, keyed by the sha256 of their bytes: in memory for the
//! life of the process, and on disk as precompiled artifacts so a restart with
//! a JS or Python filter (seconds to compile) takes milliseconds.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::LoadError;

pub(crate) struct ComponentCache {
    memory: Mutex<HashMap<[u8; 32], Component>>,
    disk: Option<PathBuf>,
    /// Artifacts only load into an engine with the same version and settings.
    engine_key: String,
    compiled: AtomicU64,
}

impl ComponentCache {
    pub(crate) fn new(engine: &Engine, disk: Option<PathBuf>) -> Result<Self, LoadError> {
        if let Some(dir) = &disk {
            std::fs::create_dir_all(dir).map_err(|source| LoadError::Read {
                path: dir.clone(),
                source,
            })?;
        }
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        // The compatibility hash covers the wasmtime version and engine settings.
        let engine_key = format!("{:016x}", hasher.finish());
        Ok(ComponentCache {
            memory: Mutex::new(HashMap::new()),
            disk,
            engine_key,
            compiled: AtomicU64::new(0),
        })
    }

    pub(crate) fn compiled_count(&self) -> u64 {
        self.compiled.load(Ordering::Relaxed)
    }

    pub(crate) fn get_or_compile(
        &self,
        engine: &Engine,
        path: &Path,
        bytes: &[u8],
    ) -> Result<(Component, [u8; 32]), LoadError> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if let Some(found) = self.memory.lock().expect("cache lock").get(&digest) {
            return Ok((found.clone(), digest));
        }
        let component = match self.load_from_disk(engine, &digest) {
            Some(component) => component,
            None => self.compile(engine, path, bytes, &digest)?,
        };
        self.memory
            .lock()
            .expect("cache lock")
            .insert(digest, component.clone());
        Ok((component, digest))
    }

    fn artifact_path(&self, digest: &[u8; 32]) -> Option<PathBuf> {
        let hex = hex(digest);
        self.disk
            .as_ref()
            .map(|dir| dir.join(format!("{hex}-{}.cwasm", self.engine_key)))
    }

    fn load_from_disk(&self, engine: &Engine, digest: &[u8; 32]) -> Option<Component> {
        let path = self.artifact_path(digest)?;
        if !path.exists() {
            return None;
        }
        // SAFETY: the artifact was written by `compile` below into weir's own
        // cache directory, named by the sha256 of the source component and the
        // engine's compatibility hash; wasmtime checks the header and engine
        // settings again. The cache directory must be writable by weir alone.
        let started = std::time::Instant::now();
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &path) };
        match loaded {
            Ok(component) => {
                tracing::info!(artifact = %path.display(), elapsed_ms = started.elapsed().as_millis() as u64, "loaded precompiled filter component");
                Some(component)
            }
            Err(err) => {
                tracing::warn!(path = %path.display(), "ignoring unusable cached artifact: {err:#}");
                None
            }
        }
    }

    fn compile(
        &self,
        engine: &Engine,
        path: &Path,
        bytes: &[u8],
        digest: &[u8; 32],
    ) -> Result<Component, LoadError> {
        let compile_error = |err: wasmtime::Error| LoadError::Compile {
            path: path.to_owned(),
            reason: format!("{err:#}"),
        };
        let started = std::time::Instant::now();
        let artifact = engine.precompile_component(bytes).map_err(compile_error)?;
        self.compiled.fetch_add(1, Ordering::Relaxed);
        tracing::info!(module = %path.display(), elapsed_ms = started.elapsed().as_millis() as u64, "compiled filter component");
        if let Some(target) = self.artifact_path(digest) {
            // Write then rename: a crash never leaves a torn artifact behind.
            let tmp = target.with_extension(format!("tmp{}", std::process::id()));
            let written =
                std::fs::write(&tmp, &artifact).and_then(|_| std::fs::rename(&tmp, &target));
            if let Err(err) = written {
                tracing::warn!(path = %target.display(), "cannot write compiled artifact: {err}");
            }
        }
        // SAFETY: `artifact` was produced just above by this engine.
        #[allow(unsafe_code)]
        let component =
            unsafe { Component::deserialize(engine, &artifact) }.map_err(compile_error)?;
        Ok(component)
    }
}

pub(crate) fn hex(digest: &[u8; 32]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
