import Config
import Foundation

/// The ModSecurity rule text the engine loads around the CRS, generated from `WAFConfig`.
///
/// Load order (ModSecurity applies directives in order, and exclusions that rewrite targets
/// must come after the rules they rewrite):
/// 1. `base`: what modsecurity.conf-recommended sets, adapted to a gateway (body access on,
///    JSON bodies parsed, limits left to the gateway's own `limits:`);
/// 2. `crsSetup`: what crs-setup.conf sets, with the configured paranoia and threshold;
/// 3. the CRS `REQUEST-*.conf` files (responses are not inspected, so `RESPONSE-*` is skipped);
/// 4. `exclusions`: the configured exclusions (the prompt itself is not excluded by rule: the
///    engine hands ModSecurity a copy with it blanked, see `WAFPromptBlanker`);
/// 5. the optional `extra_rules_file`.
public enum WAFRules {
    /// modsecurity.conf-recommended, reduced to what a request-only gateway needs.
    public static func base(mode: WAFConfig.Mode) -> String {
        """
        SecRuleEngine \(mode == .block ? "On" : "DetectionOnly")
        SecRequestBodyAccess On
        SecResponseBodyAccess Off
        # The gateway enforces limits.max_body_bytes (413) before any filter runs; here the
        # limit only has to be high enough never to cut a body the gateway accepted.
        SecRequestBodyLimit 1073741824
        SecRequestBodyNoFilesLimit 1073741824
        SecRequestBodyLimitAction ProcessPartial
        # Long agent conversations easily exceed ModSecurity's default of 1000 arguments,
        # which would fail the body parse.
        SecArgumentsLimit 100000
        SecPcreMatchLimit 100000
        SecPcreMatchLimitRecursion 100000
        SecAuditEngine Off
        SecDebugLogLevel 0
        SecArgumentSeparator &
        SecCookieFormat 0
        # JSON bodies are parsed into ARGS (json.messages.array_0.content …), so the CRS
        # inspects every field on its own and the exclusions below can spare the prompt.
        # The raw REQUEST_BODY would hand the same prompt to the rules that read it whole
        # (920272/920273 byte ranges, 921110, 931110, 944xxx), so it is dropped for JSON.
        SecRule REQUEST_HEADERS:Content-Type "@rx ^application/(?:[a-z0-9.+-]+\\+)?json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON,ctl:ruleRemoveTargetByTag=OWASP_CRS;REQUEST_BODY"
        SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.'"
        """
    }

    /// crs-setup.conf: anomaly scoring mode with the configured paranoia and threshold.
    public static func crsSetup(paranoiaLevel: Int, anomalyThreshold: Int) -> String {
        """
        SecDefaultAction "phase:1,log,auditlog,pass"
        SecDefaultAction "phase:2,log,auditlog,pass"
        SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=\(paranoiaLevel)"
        SecAction "id:900001,phase:1,nolog,pass,t:none,setvar:tx.blocking_paranoia_level=\(paranoiaLevel)"
        SecAction "id:900110,phase:1,nolog,pass,t:none,setvar:tx.inbound_anomaly_score_threshold=\(anomalyThreshold),setvar:tx.outbound_anomaly_score_threshold=4"
        SecAction "id:900990,phase:1,nolog,pass,t:none,setvar:tx.crs_setup_version=334"
        """
    }

    /// The configured target exclusions and removed rule ids.
    public static func exclusions(_ config: WAFConfig) -> String {
        var lines: [String] = []
        for arg in config.excludeArgs {
            // Values only. Every exclusion is matched against every value of every rule
            // evaluation (libmodsecurity 3.0.9 has no PCRE JIT for these), which is why the
            // prompt is blanked instead of excluded (`WAFPromptBlanker`).
            lines.append("SecRuleUpdateTargetByTag \"OWASP_CRS\" \"!ARGS:\(arg)\"")
        }
        for id in config.excludeRuleIDs {
            lines.append("SecRuleRemoveById \(id)")
        }
        return lines.joined(separator: "\n")
    }

    /// The CRS request rule files in load order (their numbers are the intended order).
    public static func crsFiles(in directory: String) throws(WAFError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .rulesNotFound(directory: directory)
        }
        let files = names.filter { $0.hasPrefix("REQUEST-") && $0.hasSuffix(".conf") }.sorted()
        guard files.contains("REQUEST-949-BLOCKING-EVALUATION.conf") else { throw .rulesNotFound(directory: directory) }
        return files.map { directory + "/" + $0 }
    }
}
