// usage: RagPlatform.Tokenizers.GoldenCheck TOKENIZER_DIR GOLDEN.jsonl
// GOLDEN.jsonl: {"text", "ids", "type_ids"} a line, written by scripts/tokenizer-golden/encode.mjs.
// Prints "N/N texts identical" and the first differences; exits 1 when any text differs.
using System.Diagnostics;
using System.Text.Json;
using RagPlatform.Tokenizers;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: RagPlatform.Tokenizers.GoldenCheck TOKENIZER_DIR GOLDEN.jsonl");
    return 2;
}

var tokenizer = TokenizerFile.Load(args[0]);
var cases = File.ReadLines(args[1]).Where(line => line.Length > 0).Select(line =>
{
    using var document = JsonDocument.Parse(line);
    var root = document.RootElement;
    return (Text: root.GetProperty("text").GetString()!,
        Ids: root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
        TypeIds: root.GetProperty("type_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
}).ToList();

int identical = 0;
int shown = 0;
long tokens = 0;
foreach (var (text, ids, typeIds) in cases)
{
    var encoded = tokenizer.Encode(text, int.MaxValue);
    tokens += encoded.Length;
    if (encoded.InputIds.AsSpan().SequenceEqual(ids) && encoded.TypeIds.AsSpan().SequenceEqual(typeIds))
    {
        identical++;
    }
    else if (shown++ < 5)
    {
        int at = 0;
        while (at < Math.Min(ids.Length, encoded.Length) && ids[at] == encoded.InputIds[at])
        {
            at++;
        }

        Console.WriteLine($"DIFF at token {at}: {JsonSerializer.Serialize(text)}");
        Console.WriteLine($"  expected {string.Join(' ', ids.Skip(Math.Max(0, at - 3)).Take(10))}");
        Console.WriteLine($"  actual   {string.Join(' ', encoded.InputIds.Skip(Math.Max(0, at - 3)).Take(10))}");
    }
}

// Throughput on the same texts (warm, one thread); the machine is shared, so this is indicative only.
var clock = Stopwatch.StartNew();
int rounds = 0;
while (clock.Elapsed < TimeSpan.FromSeconds(2) || rounds == 0)
{
    foreach (var (text, _, _) in cases)
    {
        tokenizer.Encode(text, int.MaxValue);
    }

    rounds++;
}

double perSecond = rounds * cases.Count / clock.Elapsed.TotalSeconds;
Console.WriteLine($"{identical}/{cases.Count} texts identical ({tokens} tokens); {perSecond:F0} texts/s on one thread");
return identical == cases.Count ? 0 : 1;
