import Config
import Foundation

/// Fetches temporary AWS credentials for Bedrock providers whose `aws_credentials_source` is
/// dynamic: the EC2 instance role (IMDSv2), the ECS task role / EKS Pod Identity agent, or a
/// `credential_process` command. All three answer the same JSON fields (`AccessKeyId`,
/// `SecretAccessKey`, `Token`/`SessionToken`, `Expiration` in ISO 8601). Nothing fetched is
/// ever logged; errors name the source and the HTTP status, not the body's secrets.
enum AWSCredentialFetcher {
    struct Fetched: Equatable {
        var credentials: GatewayConfig.AWSCredentials
        var expiresAt: Int
    }

    struct FetchError: Error, CustomStringConvertible {
        var description: String
    }

    /// Credentials without an `Expiration` (a long-lived process answer) are re-fetched hourly.
    static let defaultLifetime = 3600

    static func fetch(_ source: GatewayConfig.AWSCredentialSource, now: Int, timeout: Double = 5) throws -> Fetched {
        switch source {
        case .imds(let endpoint):
            return try imds(endpoint, now: now, timeout: timeout)
        case .container(let url, let token, let tokenFile):
            var headers: [(String, String)] = []
            if let tokenFile {
                guard let value = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                    throw FetchError(description: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(tokenFile)")
                }
                headers.append(("Authorization", value.trimmingCharacters(in: .whitespacesAndNewlines)))
            } else if let token {
                headers.append(("Authorization", token.value))
            }
            let (status, body) = try get(url, headers: headers, timeout: timeout, what: "the container credentials endpoint")
            guard status == 200 else { throw FetchError(description: "the container credentials endpoint answered HTTP \(status)") }
            return try parse(body, now: now, what: "the container credentials endpoint")
        case .process(let command):
            return try process(command, now: now, timeout: max(timeout, 30))
        case .webIdentity(let role, let tokenFile, let session, let sts):
            return try webIdentity(role: role, tokenFile: tokenFile, session: session, sts: sts, now: now, timeout: timeout)
        }
    }

    /// STS `AssumeRoleWithWebIdentity` (an unsigned call: the web identity token is the
    /// credential). The answer is XML; its four fields are read by tag.
    static func webIdentity(role: String, tokenFile: String, session: String, sts: String, now: Int, timeout: Double) throws -> Fetched {
        guard let raw = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
            throw FetchError(description: "cannot read AWS_WEB_IDENTITY_TOKEN_FILE \(tokenFile)")
        }
        let token = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        let form = ["Action=AssumeRoleWithWebIdentity", "Version=2011-06-15", "RoleArn=" + BlockingHTTP.formEncode(role),
                    "RoleSessionName=" + BlockingHTTP.formEncode(session), "WebIdentityToken=" + BlockingHTTP.formEncode(token)].joined(separator: "&")
        let reply: (status: Int, body: Data)
        do {
            reply = try BlockingHTTP.send("POST", sts + "/", headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/xml")],
                                          body: Data(form.utf8), timeout: timeout)
        } catch {
            throw FetchError(description: "STS at \(sts) is unreachable: \(error)")
        }
        let xml = String(decoding: reply.body, as: UTF8.self)
        guard reply.status == 200 else {
            // STS errors carry a code and a message, never the token.
            let code = element("Code", in: xml) ?? "HTTP \(reply.status)"
            throw FetchError(description: "STS refused AssumeRoleWithWebIdentity for \(role): \(code)")
        }
        guard let id = element("AccessKeyId", in: xml), let secret = element("SecretAccessKey", in: xml) else {
            throw FetchError(description: "STS answered without AccessKeyId/SecretAccessKey")
        }
        var expiresAt = now + defaultLifetime
        if let expiration = element("Expiration", in: xml) {
            guard let date = ISO8601DateFormatter().date(from: expiration) else {
                throw FetchError(description: "STS answered an Expiration that is not ISO 8601")
            }
            expiresAt = Int(date.timeIntervalSince1970)
        }
        return Fetched(credentials: .init(accessKeyID: id, secretAccessKey: Secret(secret), sessionToken: element("SessionToken", in: xml).map { Secret($0) }),
                       expiresAt: expiresAt)
    }

    /// The text of the first `<name>…</name>` in `xml` (STS answers have no attributes or
    /// nesting surprises in these fields).
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else { return nil }
        return String(xml[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// IMDSv2: a session token (PUT), the role name, then the role's credentials.
    static func imds(_ endpoint: String, now: Int, timeout: Double) throws -> Fetched {
        let what = "the instance metadata service"
        let session: (status: Int, body: Data)
        do {
            session = try BlockingHTTP.send("PUT", endpoint + "/latest/api/token",
                                            headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], timeout: timeout)
        } catch {
            throw FetchError(description: "\(what) at \(endpoint) is unreachable: \(error)")
        }
        guard session.status == 200 else { throw FetchError(description: "\(what) refused a session token: HTTP \(session.status)") }
        let token = [("X-aws-ec2-metadata-token", String(decoding: session.body, as: UTF8.self))]
        let base = endpoint + "/latest/meta-data/iam/security-credentials/"
        let (roleStatus, roleBody) = try get(base, headers: token, timeout: timeout, what: what)
        guard roleStatus == 200, let role = String(decoding: roleBody, as: UTF8.self).split(whereSeparator: \.isNewline).first else {
            throw FetchError(description: "\(what) lists no instance role (HTTP \(roleStatus)); attach an instance profile or use another aws_credentials_source")
        }
        let (status, body) = try get(base + String(role), headers: token, timeout: timeout, what: what)
        guard status == 200 else { throw FetchError(description: "\(what) answered HTTP \(status) for role \(role)") }
        return try parse(body, now: now, what: what)
    }

    static func process(_ command: String, now: Int, timeout: Double) throws -> Fetched {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", command]
        let out = Pipe()
        child.standardOutput = out
        child.standardError = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        child.terminationHandler = { _ in done.signal() }
        do {
            try child.run()
        } catch {
            throw FetchError(description: "aws_credential_process could not start: \(error)")
        }
        // The answer is a few hundred bytes: far below a pipe's buffer, so reading after the
        // exit cannot deadlock.
        if done.wait(timeout: .now() + timeout) == .timedOut {
            child.terminate()
            throw FetchError(description: "aws_credential_process did not finish within \(Int(timeout)) s")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        guard child.terminationStatus == 0 else {
            throw FetchError(description: "aws_credential_process exited with status \(child.terminationStatus)")
        }
        if let version = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["Version"] as? Int, version != 1 {
            throw FetchError(description: "aws_credential_process printed Version \(version); only Version 1 is defined")
        }
        return try parse(data, now: now, what: "aws_credential_process")
    }

    static func parse(_ body: Data, now: Int, what: String) throws -> Fetched {
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let id = json["AccessKeyId"] as? String, !id.isEmpty,
              let secret = json["SecretAccessKey"] as? String, !secret.isEmpty else {
            throw FetchError(description: "\(what) answered without AccessKeyId/SecretAccessKey")
        }
        if let code = json["Code"] as? String, code != "Success" {
            throw FetchError(description: "\(what) answered Code \(code)")
        }
        let token = (json["Token"] as? String) ?? (json["SessionToken"] as? String)
        var expiresAt = now + defaultLifetime
        if let expiration = json["Expiration"] as? String {
            guard let date = ISO8601DateFormatter().date(from: expiration) else {
                throw FetchError(description: "\(what) answered an Expiration that is not ISO 8601")
            }
            expiresAt = Int(date.timeIntervalSince1970)
        }
        return Fetched(credentials: .init(accessKeyID: id, secretAccessKey: Secret(secret), sessionToken: token.flatMap { $0.isEmpty ? nil : Secret($0) }),
                       expiresAt: expiresAt)
    }

    private static func get(_ url: String, headers: [(String, String)], timeout: Double, what: String) throws -> (Int, Data) {
        do {
            let r = try BlockingHTTP.send("GET", url, headers: headers, timeout: timeout)
            return (r.status, r.body)
        } catch {
            throw FetchError(description: "\(what) is unreachable: \(error)")
        }
    }
}
