using System;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace SockPS.Core.Tests.Fuzz;

/// <summary>The bugs the fuzz tests found, pinned as plain cases (each failed before its fix).</summary>
public class FuzzRegressionTests
{
    private static FrameResult TakePattern(byte[] buffer, string pattern, bool ended = false) =>
        Framer.Take(buffer, 0, buffer.Length, ended,
            new ReceiveRequest(ReceiveMode.Pattern, true, TimeSpan.Zero, pattern: new Regex(pattern), keepBytes: true),
            new TextCodec(TextEncodings.Utf8NoBom));

    [Fact]
    public void AMatchEndingInReplacementCharacterLeavesTheNextByteBuffered()
    {
        // C8 is a lead byte that D9 shows to be invalid (U+FFFD); D9 itself starts an unfinished
        // sequence. The match is "::\uFFFD": three bytes. It took four, D9 included, when D9 was
        // the last byte that had arrived, and three when more had: it depended on the reads.
        byte[] buffer = { 0x3A, 0x3A, 0xC8, 0xD9 };
        FrameResult result = TakePattern(buffer, "\uFFFD");

        Assert.Equal(FrameStatus.Frame, result.Status);
        Assert.Equal(3, result.Consumed);
        PatternFrame frame = Assert.IsType<PatternFrame>(result.Value);
        Assert.Equal(new byte[] { 0x3A, 0x3A, 0xC8 }, frame.Bytes);
    }

    [Fact]
    public void AMatchEndingInReplacementCharacterTakesTheSameBytesHoweverManyFollow()
    {
        // UTF-16BE: DB1A is a high surrogate with no low one after it (U+FFFD); DA64 starts
        // another. The match is that U+FFFD, two bytes. With DA64 the last bytes that had arrived,
        // it took four; with more after them, one (half of DB1A).
        Encoding encoding = TextEncodings.Get("bigendianunicode");
        foreach (byte[] buffer in new[] { new byte[] { 0xDB, 0x1A, 0xDA, 0x64 }, new byte[] { 0xDB, 0x1A, 0xDA, 0x64, 0x42, 0x26 } })
        {
            FrameResult result = Framer.Take(buffer, 0, buffer.Length, false,
                new ReceiveRequest(ReceiveMode.Pattern, true, TimeSpan.Zero, pattern: new Regex("."), keepBytes: true), new TextCodec(encoding));

            Assert.Equal(FrameStatus.Frame, result.Status);
            Assert.Equal(2, result.Consumed);
            Assert.Equal("\uFFFD", Assert.IsType<PatternFrame>(result.Value).Text);
        }
    }

    [Fact]
    public void AOneCharacterPatternOnAnEmojiTakesTheEmojiInsteadOfThrowing()
    {
        // '.' matches one UTF-16 unit, half of the emoji's surrogate pair. Decoder.Convert threw
        // ArgumentException ("The output char buffer is too small") for a one-char prefix.
        byte[] buffer = Encoding.UTF8.GetBytes("\U0001F600a");
        FrameResult result = TakePattern(buffer, ".");

        Assert.Equal(FrameStatus.Frame, result.Status);
        Assert.Equal(4, result.Consumed);
        Assert.Equal("\U0001F600", Assert.IsType<PatternFrame>(result.Value).Text);
    }

    [Fact]
    public void AMatchEndingInsideASurrogatePairTakesThatCharacterOnly()
    {
        // "a" and half the emoji: it took every buffered byte ("ab" too), as many as had arrived.
        byte[] buffer = Encoding.UTF8.GetBytes("a\U0001F600ab");
        FrameResult result = TakePattern(buffer, "(?s).{2}");

        Assert.Equal(FrameStatus.Frame, result.Status);
        Assert.Equal(5, result.Consumed);
        Assert.Equal("a\U0001F600", Assert.IsType<PatternFrame>(result.Value).Text);
    }
}
