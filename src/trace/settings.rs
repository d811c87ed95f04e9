//! What the span pipeline is told: where spans go, over which protocol,
//! compressed or not, and how they are batched. [`Builder`](crate::Builder)
//! and the `OTEL_*` variables set them; [`Config`](crate::Config) reports
//! them.

/// Where spans go (`OTEL_TRACES_EXPORTER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TracesExporter {
    /// OTLP to a Collector or backend, over [`Protocol`].
    Otlp,
    /// A readable line per span on stderr, for development.
    Console,
    /// OTLP/JSON lines in a local file, for `tracelink show` (see
    /// [`crate::store`]; `TRACELINK_TRACES_FILE`).
    File,
}

impl TracesExporter {
    pub(crate) fn name(self) -> &'static str {
        match self {
            TracesExporter::Otlp => "otlp",
            TracesExporter::Console => "console",
            TracesExporter::File => "file",
        }
    }
}

/// The OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// OTLP/gRPC, default port 4317.
    Grpc,
    /// OTLP/HTTP with protobuf bodies, default port 4318. The default, as the
    /// specification recommends.
    HttpProtobuf,
}

impl Protocol {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// Compression of OTLP requests (`OTEL_EXPORTER_OTLP_COMPRESSION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// No compression. The default.
    #[default]
    None,
    /// gzip (needs the `gzip` feature, on by default).
    Gzip,
}

macro_rules! display_by_name {
    ($($ty:ty),*) => {$(
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    )*};
}

display_by_name!(TracesExporter, Protocol, Compression);

impl std::str::FromStr for TracesExporter {
    type Err = String;

    /// `otlp`, `console` or `file`, in any case (`none` is no exporter at
    /// all, which [`Builder::with_traces_exporters`](crate::Builder) takes
    /// as an empty list).
    ///
    /// ```
    /// use tracelink::trace::TracesExporter;
    ///
    /// assert_eq!("file".parse(), Ok(TracesExporter::File));
    /// assert_eq!(TracesExporter::Otlp.to_string(), "otlp");
    /// ```
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "otlp" => Ok(TracesExporter::Otlp),
            "console" => Ok(TracesExporter::Console),
            "file" => Ok(TracesExporter::File),
            _ => Err("expected otlp, console, file or none".into()),
        }
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;

    /// `grpc` or `http/protobuf`, in any case; one this build leaves out
    /// (its feature is off) is an error that names the feature.
    ///
    /// ```
    /// use tracelink::trace::Protocol;
    ///
    /// assert_eq!("http/protobuf".parse(), Ok(Protocol::HttpProtobuf));
    /// assert_eq!(Protocol::Grpc.to_string(), "grpc");
    /// assert!("http/json".parse::<Protocol>().is_err());
    /// ```
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "grpc" if cfg!(feature = "otlp-grpc") => Ok(Protocol::Grpc),
            "grpc" => Err("this build has no gRPC; enable tracelink's `otlp-grpc` feature".into()),
            "http/protobuf" if cfg!(feature = "otlp-http") => Ok(Protocol::HttpProtobuf),
            "http/protobuf" => {
                Err("this build has no OTLP/HTTP; enable tracelink's `otlp-http` feature".into())
            }
            "http/json" => Err("http/json is not supported; use http/protobuf or grpc".into()),
            _ => Err("expected grpc or http/protobuf".into()),
        }
    }
}

impl Compression {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
        }
    }
}

impl std::str::FromStr for Compression {
    type Err = String;

    /// `gzip` or `none`, in any case.
    ///
    /// ```
    /// use tracelink::trace::Compression;
    ///
    /// assert_eq!("none".parse(), Ok(Compression::None));
    /// assert_eq!(Compression::Gzip.to_string(), "gzip");
    /// ```
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Compression::None),
            "gzip" if cfg!(feature = "gzip") => Ok(Compression::Gzip),
            "gzip" => Err("this build has no gzip; enable tracelink's `gzip` feature".into()),
            _ => Err("expected gzip or none".into()),
        }
    }
}
