extension ModelCatalog {
    /// The catalog Tollgate ships, in the format of a `catalog_file:` (print it with
    /// `tollgate catalog`, edit the copy, point the config at it). List prices in USD per
    /// million tokens, standard tier, prompts under any long-context surcharge; `cached_input` is
    /// OpenAI's cached input, Anthropic's cache reads and Gemini's context caching. Context
    /// windows and output limits as the providers document them. Names match dated, versioned
    /// and cloud-prefixed ids too (see `ModelCatalog.info(for:in:)`).
    public static let builtInYAML = """
    # Tollgate model catalog. Keys are upstream model names; every field is optional.
    #   input / output / cached_input   USD per million tokens
    #   context_window                  prompt + output tokens the model accepts
    #   max_output_tokens               the most it will generate in one response
    #   capabilities                    chat, embeddings, tools, vision, json_mode, reasoning
    models:
      # OpenAI
      gpt-5:          {input: 1.25, output: 10.00, cached_input: 0.125, context_window: 400000, max_output_tokens: 128000, capabilities: [chat, tools, vision, json_mode, reasoning]}
      gpt-5-mini:     {input: 0.25, output: 2.00, cached_input: 0.025, context_window: 400000, max_output_tokens: 128000, capabilities: [chat, tools, vision, json_mode, reasoning]}
      gpt-5-nano:     {input: 0.05, output: 0.40, cached_input: 0.005, context_window: 400000, max_output_tokens: 128000, capabilities: [chat, tools, vision, json_mode, reasoning]}
      gpt-4.1:        {input: 2.00, output: 8.00, cached_input: 0.50, context_window: 1047576, max_output_tokens: 32768, capabilities: [chat, tools, vision, json_mode]}
      gpt-4.1-mini:   {input: 0.40, output: 1.60, cached_input: 0.10, context_window: 1047576, max_output_tokens: 32768, capabilities: [chat, tools, vision, json_mode]}
      gpt-4.1-nano:   {input: 0.10, output: 0.40, cached_input: 0.025, context_window: 1047576, max_output_tokens: 32768, capabilities: [chat, tools, vision, json_mode]}
      gpt-4o:         {input: 2.50, output: 10.00, cached_input: 1.25, context_window: 128000, max_output_tokens: 16384, capabilities: [chat, tools, vision, json_mode]}
      gpt-4o-mini:    {input: 0.15, output: 0.60, cached_input: 0.075, context_window: 128000, max_output_tokens: 16384, capabilities: [chat, tools, vision, json_mode]}
      o3:             {input: 2.00, output: 8.00, cached_input: 0.50, context_window: 200000, max_output_tokens: 100000, capabilities: [chat, tools, vision, json_mode, reasoning]}
      o3-mini:        {input: 1.10, output: 4.40, cached_input: 0.55, context_window: 200000, max_output_tokens: 100000, capabilities: [chat, tools, json_mode, reasoning]}
      o4-mini:        {input: 1.10, output: 4.40, cached_input: 0.275, context_window: 200000, max_output_tokens: 100000, capabilities: [chat, tools, vision, json_mode, reasoning]}
      text-embedding-3-small: {input: 0.02, output: 0, context_window: 8191, capabilities: [embeddings]}
      text-embedding-3-large: {input: 0.13, output: 0, context_window: 8191, capabilities: [embeddings]}
      text-embedding-ada-002: {input: 0.10, output: 0, context_window: 8191, capabilities: [embeddings]}
      # Anthropic (also on Bedrock as anthropic.<name>-<date>-v1:0 and on Vertex AI as <name>@<date>)
      claude-opus-4-1:   {input: 15.00, output: 75.00, cached_input: 1.50, context_window: 200000, max_output_tokens: 32000, capabilities: [chat, tools, vision, reasoning]}
      claude-opus-4:     {input: 15.00, output: 75.00, cached_input: 1.50, context_window: 200000, max_output_tokens: 32000, capabilities: [chat, tools, vision, reasoning]}
      claude-sonnet-4-5: {input: 3.00, output: 15.00, cached_input: 0.30, context_window: 200000, max_output_tokens: 64000, capabilities: [chat, tools, vision, reasoning]}
      claude-sonnet-4:   {input: 3.00, output: 15.00, cached_input: 0.30, context_window: 200000, max_output_tokens: 64000, capabilities: [chat, tools, vision, reasoning]}
      claude-3-7-sonnet: {input: 3.00, output: 15.00, cached_input: 0.30, context_window: 200000, max_output_tokens: 64000, capabilities: [chat, tools, vision, reasoning]}
      claude-haiku-4-5:  {input: 1.00, output: 5.00, cached_input: 0.10, context_window: 200000, max_output_tokens: 64000, capabilities: [chat, tools, vision, reasoning]}
      claude-3-5-haiku:  {input: 0.80, output: 4.00, cached_input: 0.08, context_window: 200000, max_output_tokens: 8192, capabilities: [chat, tools, vision]}
      claude-3-haiku:    {input: 0.25, output: 1.25, cached_input: 0.03, context_window: 200000, max_output_tokens: 4096, capabilities: [chat, tools, vision]}
      # Google (Gemini API and Vertex AI)
      gemini-2.5-pro:        {input: 1.25, output: 10.00, cached_input: 0.31, context_window: 1048576, max_output_tokens: 65536, capabilities: [chat, tools, vision, json_mode, reasoning]}
      gemini-2.5-flash:      {input: 0.30, output: 2.50, cached_input: 0.075, context_window: 1048576, max_output_tokens: 65536, capabilities: [chat, tools, vision, json_mode, reasoning]}
      gemini-2.5-flash-lite: {input: 0.10, output: 0.40, cached_input: 0.025, context_window: 1048576, max_output_tokens: 65536, capabilities: [chat, tools, vision, json_mode, reasoning]}
      gemini-2.0-flash:      {input: 0.10, output: 0.40, cached_input: 0.025, context_window: 1048576, max_output_tokens: 8192, capabilities: [chat, tools, vision, json_mode]}
      gemini-embedding-001:  {input: 0.15, output: 0, context_window: 2048, capabilities: [embeddings]}
      text-embedding-005:    {context_window: 2048, capabilities: [embeddings]}
      # Amazon Bedrock's own and partner embedding models
      titan-embed-text-v2:   {input: 0.02, output: 0, context_window: 8192, capabilities: [embeddings]}
      embed-english-v3:      {input: 0.10, output: 0, context_window: 512, capabilities: [embeddings]}
      embed-multilingual-v3: {input: 0.10, output: 0, context_window: 512, capabilities: [embeddings]}
    """
}
