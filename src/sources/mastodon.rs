//! Mastodon account archive → Activities. (Stub: being implemented; recognises nothing yet.)

use super::archive::Archive;
use super::{ImportOptions, Importer, Sink};
use crate::error::SourceError;
use crate::model::Platform;

/// The Mastodon account archive importer.
pub struct MastodonArchive;

impl Importer for MastodonArchive {
    fn platform(&self) -> Platform {
        Platform::Mastodon
    }

    fn name(&self) -> &'static str {
        "Mastodon account archive"
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
