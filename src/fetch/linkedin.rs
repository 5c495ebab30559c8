//! LinkedIn Member Data Portability API (DMA) → raw pages + Activities. Not implemented yet:
//! `rapport login linkedin` / `rapport fetch linkedin` say so. Must not parse exports (it will
//! reuse the LinkedIn importer's CSV semantics through `sources::linkedin`), nor use Polars.

use crate::error::Error;

/// The message both commands give until the DMA client lands (issue 5, step 4).
pub fn not_yet() -> Error {
    Error::Usage(
        "LinkedIn API access is not implemented yet; use your LinkedIn export: \
         rapport analyze --export Complete_LinkedInDataExport.zip"
            .into(),
    )
}
