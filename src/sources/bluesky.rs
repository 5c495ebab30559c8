//! Bluesky repository (CAR) → Activities. (Stub: being implemented; recognises nothing yet.)

use super::archive::Archive;
use super::{ImportOptions, Importer, Sink};
use crate::error::SourceError;
use crate::model::Platform;

/// The Bluesky repository (CAR) importer.
pub struct BlueskyRepo;

impl Importer for BlueskyRepo {
    fn platform(&self) -> Platform {
        Platform::Bluesky
    }

    fn name(&self) -> &'static str {
        "Bluesky repository (CAR)"
    }

    fn sniff(&self, _archive: &Archive) -> Result<bool, SourceError> {
        Ok(false)
    }

    fn read(
        &self,
        _archive: &Archive,
        _options: &ImportOptions,
        _sink: &mut dyn Sink,
    ) -> Result<(), SourceError> {
        Ok(())
    }
}
