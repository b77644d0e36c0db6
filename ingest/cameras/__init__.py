"""Camera ingestion: stream readers (``ingest.cameras.readers``), capture workers and camera health."""

from ingest.cameras.readers import STREAM_KINDS, Backoff, Sampler, StreamError, StreamReader, open_stream

__all__ = ["STREAM_KINDS", "Backoff", "Sampler", "StreamError", "StreamReader", "open_stream"]
