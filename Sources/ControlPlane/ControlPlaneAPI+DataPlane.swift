import ControlPlaneStore
import Foundation

/// The data-plane protocol: `GET /api/v1/dataplanes/{id}/config`.
///
/// The data plane sends its credential (`Authorization: Bearer tgdp_…`), the ETag of the
/// config it runs (`If-None-Match`), its version (`X-Tollgate-Version`) and, when the last
/// config it received was rejected, why (`X-Tollgate-Config-Error`). The answer is 304 when
/// nothing changed, else the rendered document with its ETag. Every poll is recorded as the
/// data plane's heartbeat.
extension ControlPlaneAPI {
    static let maxReportedError = 2000

    func dataplaneConfig(_ request: APIRequest, id: String) async throws(APIError) -> APIResponse {
        let dp = try await authenticateDataplane(request, id: id)

        let rendered: ConfigRenderer.Rendered
        do {
            let resources = try await store.allResources(orgID: dp.orgID)
            rendered = try ConfigRenderer(mode: .delivery(settings.secretBox), nowSeconds: clock() / 1000).render(resources: resources, dataplane: dp.body)
        } catch let error as ConfigRenderer.Failure {
            logger.error("cannot render a data plane's config", metadata: ["dataplane": "\(id)", "error": "\(error.message)"])
            throw .unavailable("the config cannot be rendered: \(error.message)")
        } catch let error as SecretBox.Failure {
            logger.error("cannot open a provider credential", metadata: ["dataplane": "\(id)", "error": "\(error.description)"])
            throw .unavailable("a provider credential cannot be opened: \(error.description)")
        } catch { throw storeFailure(error) }
        let etag = rendered.etag
        let applied = request.ifNoneMatch.map { String($0.prefix(80)) }
        let reportedError = request.headers["x-tollgate-config-error"].map { String($0.prefix(Self.maxReportedError)) }
        let status = DataPlaneStatus(dataplaneID: id, lastSeenMs: clock(), polls: 0, servedETag: etag, appliedETag: applied,
                                     agentVersion: request.headers["x-tollgate-version"].map { String($0.prefix(64)) },
                                     lastError: reportedError.flatMap { $0.isEmpty ? nil : $0 },
                                     pollIntervalMs: request.headers["x-tollgate-poll-interval-ms"].flatMap { Int64($0) }.map { min(max($0, 100), 86_400_000) })
        do { try await store.recordPoll(status) } catch {
            // The config still goes out: a heartbeat lost to a database hiccup is logged, not fatal.
            logger.warning("cannot record a data plane's heartbeat", metadata: ["dataplane": "\(id)", "error": "\(error)"])
        }
        if applied == etag {
            return APIResponse(status: 304, headers: [("ETag", etag), ("Cache-Control", "no-store")])
        }
        return APIResponse(status: 200, headers: [("ETag", etag), ("Cache-Control", "no-store")], body: rendered.document)
    }
}
