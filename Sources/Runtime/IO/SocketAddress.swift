// IPv4 socket addresses and the one address grammar used everywhere: `[HOST:]PORT`,
// HOST defaulting to 127.0.0.1 and `localhost` accepted.
import Glibc

/// An IPv4 address and port.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// Dotted-quad host, e.g. `"127.0.0.1"`.
    public var host: String
    public var port: UInt16

    /// The loopback address `127.0.0.1`.
    public static let loopback = "127.0.0.1"

    /// An address from a host (an IPv4 literal or `localhost`) and a port.
    ///
    /// - Throws: `SocketError` with code `.badAddress` for any other host.
    public init(host: String = SocketAddress.loopback, port: UInt16) throws(SocketError) {
        let h = host.lowercased() == "localhost" ? SocketAddress.loopback : host
        var probe = in_addr()
        guard inet_pton(AF_INET, h, &probe) == 1 else {
            throw SocketError(.badAddress, operation: "address", address: host,
                              detail: "'\(host)' is not an IPv4 address (use e.g. 127.0.0.1 or localhost)")
        }
        self.host = h
        self.port = port
    }

    /// Parses `[HOST:]PORT`: `"25000"`, `"127.0.0.1:25000"`, `"localhost:25000"`.
    public init(parsing text: String) throws(SocketError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let portText = parts.last else {
            throw SocketError(.badAddress, operation: "address", address: text, detail: "expected [HOST:]PORT, got '\(text)'")
        }
        guard let port = UInt16(portText) else {
            throw SocketError(.badAddress, operation: "address", address: text,
                              detail: "'\(portText)' is not a port number (0-65535)")
        }
        if parts.count == 2 {
            guard !parts[0].isEmpty else {
                throw SocketError(.badAddress, operation: "address", address: text, detail: "expected [HOST:]PORT, got '\(text)'")
            }
            try self.init(host: String(parts[0]), port: port)
        } else {
            try self.init(port: port)
        }
    }

    /// `"127.0.0.1:25000"`
    public var description: String { "\(host):\(port)" }

    /// The C representation.
    public var sockaddrIn: sockaddr_in {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &sa.sin_addr)
        return sa
    }

    init(_ sa: sockaddr_in) {
        var addr = sa.sin_addr
        var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &addr, &buf, socklen_t(buf.count))
        host = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        port = UInt16(bigEndian: sa.sin_port)
    }
}
