import Foundation

/// Paths of the repository, the fetched assets (`scripts/setup`) and committed test data.
public enum TestPaths {
    /// The package root, found from this source file's location.
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    public static func asset(_ relative: String) -> URL {
        repositoryRoot.appendingPathComponent("assets").appendingPathComponent(relative)
    }

    public static func testData(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Tests/Data").appendingPathComponent(name)
    }

    public static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    /// The most recently built `visionc` executable (debug or release), for tests that run it
    /// as a process; nil when neither is built.
    public static var visioncBinary: URL? {
        func modified(_ url: URL) -> Date { (try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast }
        return ["debug", "release"].map { repositoryRoot.appendingPathComponent(".build/\($0)/visionc") }.filter(exists).max { modified($0) < modified($1) }
    }
}
