// The REPL as a library. The command language and the line editor arrive with their
// own issues; for now this module only names the product.
import Runtime

/// Facts about corepl shown by its front ends.
public enum Corepl {
    /// The version printed by `corepl --version`.
    public static let version = "0.1.0"
}
