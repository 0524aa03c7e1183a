extension GatewayConfig {
    /// Where a Bedrock provider's AWS credentials come from when they are not static
    /// (`aws_credentials_source:`). Dynamic credentials are temporary: the controller fetches
    /// them when it compiles a config and again before they expire, and publishes them in the
    /// snapshot like any other credential; workers never call a metadata service.
    public enum AWSCredentialSource: Codable, Sendable, Equatable {
        /// The EC2 instance role, through IMDSv2 (a session token, then the role's credentials).
        case imds(endpoint: String)
        /// The ECS task role or EKS Pod Identity: `AWS_CONTAINER_CREDENTIALS_FULL_URI` (or the
        /// relative form on 169.254.170.2), with the authorization token from
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN` or re-read from `…_TOKEN_FILE` on every fetch
        /// (EKS rotates it).
        case container(url: String, authorizationToken: Secret?, authorizationTokenFile: String?)
        /// `credential_process`: a command printing `{"Version":1,"AccessKeyId",…}` (run
        /// through /bin/sh by the controller).
        case process(command: String)
        /// EKS IAM roles for service accounts (IRSA): STS `AssumeRoleWithWebIdentity` with the
        /// projected service-account token (`AWS_WEB_IDENTITY_TOKEN_FILE`, re-read on every
        /// fetch since the kubelet rotates it) for `AWS_ROLE_ARN`.
        case webIdentity(roleARN: String, tokenFile: String, sessionName: String, stsEndpoint: String)

        public var name: String {
            switch self {
            case .imds: return "imds"
            case .container: return "container"
            case .process: return "process"
            case .webIdentity: return "web_identity"
            }
        }
    }
}
