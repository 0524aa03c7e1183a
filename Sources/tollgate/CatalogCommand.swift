import ArgumentParser
import Config

/// `tollgate catalog`: prints the built-in model catalog in the format `catalog_file:` reads,
/// so a deployment can start from it, change prices or add its own models.
struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Print the built-in model catalog (prices, context windows, capabilities) as YAML.",
        discussion: "Save it, edit it, and point the config's catalog_file: at the copy; its entries replace the built-in ones by name.")

    func run() throws {
        print(ModelCatalog.builtInYAML)
    }
}
