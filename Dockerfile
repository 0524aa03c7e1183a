# Build: docker build -t tollgate .
# Run:   docker run -p 8080:8080 -v $PWD/my.yaml:/etc/tollgate/tollgate.yaml tollgate
FROM swift:6.2-bookworm AS build
# The WAF module links libmodsecurity (ModSecurity v3).
RUN apt-get update && apt-get install -y --no-install-recommends libmodsecurity-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libhiredis-dev && rm -rf /var/lib/apt/lists/*
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product tollgate --static-swift-stdlib \
 && install -D .build/release/tollgate /out/tollgate

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libcurl4 libxml2 libhiredis0.14 tzdata libmodsecurity3 modsecurity-crs \
 && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 tollgate
COPY --from=build /out/tollgate /usr/local/bin/tollgate
COPY examples /etc/tollgate/examples
USER tollgate
EXPOSE 8080
# SIGTERM drains; Kubernetes should allow terminationGracePeriodSeconds > limits.shutdown_grace_ms.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tollgate"]
CMD ["serve", "--config", "/etc/tollgate/tollgate.yaml", "--run-dir", "/tmp/tollgate", "--log-format", "json"]
