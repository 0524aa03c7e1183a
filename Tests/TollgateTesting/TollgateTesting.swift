/// Helpers shared by the test targets: spawning the real binary, a blocking HTTP client.
public enum TollgateTesting {}
