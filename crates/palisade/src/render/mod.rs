//! Renderers owned by the command line (sinks for domain results that have no library sink).
