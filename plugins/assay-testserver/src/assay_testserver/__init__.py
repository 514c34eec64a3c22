"""OpenAI-compatible test server for assay's tests and benchmarks (loopback only)."""

from .server import FAULT_KINDS, Server, ServerConfig, TestServer, embed, tokens_of

__all__ = ["FAULT_KINDS", "Server", "ServerConfig", "TestServer", "embed", "tokens_of"]
