import Foundation
import NeuralNet

/// Pipeline outputs (transcriptions, truth files, manifests) are written whole or not at all: a
/// temporary file beside the target, then a rename, so a killed run never leaves half a file.
public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws {
        try writeAtomically(Data(text.utf8), to: path)
    }

    public static func write(_ data: Data, to path: String) throws {
        try writeAtomically(data, to: path)
    }
}
