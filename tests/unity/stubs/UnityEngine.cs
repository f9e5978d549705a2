// STUBS FOR COMPILATION ONLY. Not Unity, not a Unity replacement, never run, never shipped.
// The few UnityEngine types and members that the AssetGen Unity package's Editor scripts and
// its TalkingNpc sample use, declared with the signatures of Unity's scripting reference
// (2021.3), so tests/unity can compile those scripts with Mono's mcs on a machine without
// Unity. Every body throws. A member missing here is a member the package does not use.
using System;
using System.Collections;

namespace UnityEngine
{
    static class Stubs
    {
        internal static Exception Fail() { return new NotImplementedException("compile-only stub"); }
    }

    public class Object
    {
        public string name { get { throw Stubs.Fail(); } set { throw Stubs.Fail(); } }
        public static void Destroy(Object obj) { throw Stubs.Fail(); }
        public static bool operator ==(Object a, Object b) { throw Stubs.Fail(); }
        public static bool operator !=(Object a, Object b) { throw Stubs.Fail(); }
        public override bool Equals(object other) { throw Stubs.Fail(); }
        public override int GetHashCode() { throw Stubs.Fail(); }
    }

    public class Component : Object
    {
        public T GetComponent<T>() { throw Stubs.Fail(); }
    }

    public class Behaviour : Component { }

    public class YieldInstruction { }

    public sealed class Coroutine : YieldInstruction { }

    public sealed class WaitForSeconds : YieldInstruction
    {
        public WaitForSeconds(float seconds) { throw Stubs.Fail(); }
    }

    public class AsyncOperation : YieldInstruction { }

    public class MonoBehaviour : Behaviour
    {
        public Coroutine StartCoroutine(IEnumerator routine) { throw Stubs.Fail(); }
        public void StopCoroutine(Coroutine routine) { throw Stubs.Fail(); }
    }

    public class Texture : Object
    {
        public FilterMode filterMode { get { throw Stubs.Fail(); } set { throw Stubs.Fail(); } }
        public TextureWrapMode wrapMode { get { throw Stubs.Fail(); } set { throw Stubs.Fail(); } }
    }

    public sealed class Texture2D : Texture
    {
        public Texture2D(int width, int height, TextureFormat textureFormat, bool mipChain) { throw Stubs.Fail(); }
        public void LoadRawTextureData(byte[] data) { throw Stubs.Fail(); }
        public void Apply(bool updateMipmaps, bool makeNoLongerReadable) { throw Stubs.Fail(); }
    }

    public sealed class Sprite : Object
    {
        public Texture2D texture { get { throw Stubs.Fail(); } }
        public static Sprite Create(Texture2D texture, Rect rect, Vector2 pivot, float pixelsPerUnit) { throw Stubs.Fail(); }
    }

    public sealed class SpriteRenderer : Component
    {
        public Sprite sprite { get { throw Stubs.Fail(); } set { throw Stubs.Fail(); } }
    }

    public sealed class AnimationClip : Object
    {
        public float frameRate { get { throw Stubs.Fail(); } set { throw Stubs.Fail(); } }
    }

    public enum TextureFormat { RGBA32 = 4 }

    public enum FilterMode { Point = 0, Bilinear = 1, Trilinear = 2 }

    public enum TextureWrapMode { Repeat = 0, Clamp = 1 }

    public enum SpriteAlignment
    {
        Center = 0, TopLeft = 1, TopCenter = 2, TopRight = 3, LeftCenter = 4, RightCenter = 5,
        BottomLeft = 6, BottomCenter = 7, BottomRight = 8, Custom = 9,
    }

    public struct Vector2
    {
        public float x;
        public float y;
        public Vector2(float x, float y) { this.x = x; this.y = y; }
    }

    public struct Rect
    {
        public Rect(float x, float y, float width, float height) { throw Stubs.Fail(); }
    }

    public static class Mathf
    {
        public static float Max(float a, float b) { throw Stubs.Fail(); }
        public static int FloorToInt(float f) { throw Stubs.Fail(); }
    }

    public static class Debug
    {
        public static void Log(object message) { throw Stubs.Fail(); }
        public static void LogWarning(object message) { throw Stubs.Fail(); }
        public static void LogError(object message, Object context) { throw Stubs.Fail(); }
    }

    public static class Application
    {
        public static string dataPath { get { throw Stubs.Fail(); } }
        public static string streamingAssetsPath { get { throw Stubs.Fail(); } }
    }

    public static class Screen
    {
        public static int width { get { throw Stubs.Fail(); } }
        public static int height { get { throw Stubs.Fail(); } }
    }

    public sealed class GUI
    {
        public static void Box(Rect position, string text) { throw Stubs.Fail(); }
    }

    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
    public sealed class RequireComponent : Attribute
    {
        public RequireComponent(Type requiredComponent) { }
    }

    [AttributeUsage(AttributeTargets.Field, AllowMultiple = true)]
    public class PropertyAttribute : Attribute { }

    public sealed class HeaderAttribute : PropertyAttribute
    {
        public HeaderAttribute(string header) { }
    }

    public sealed class TooltipAttribute : PropertyAttribute
    {
        public TooltipAttribute(string tooltip) { }
    }

    public sealed class TextAreaAttribute : PropertyAttribute { }

    public sealed class RangeAttribute : PropertyAttribute
    {
        public RangeAttribute(float min, float max) { }
    }
}

namespace UnityEngine.Networking
{
    public class DownloadHandler : IDisposable
    {
        public byte[] data { get { throw Stubs.Fail(); } }
        public void Dispose() { throw Stubs.Fail(); }
    }

    public class UnityWebRequestAsyncOperation : AsyncOperation { }

    public class UnityWebRequest : IDisposable
    {
        public enum Result { InProgress, Success, ConnectionError, ProtocolError, DataProcessingError }

        public static UnityWebRequest Get(string uri) { throw Stubs.Fail(); }
        public UnityWebRequestAsyncOperation SendWebRequest() { throw Stubs.Fail(); }
        public Result result { get { throw Stubs.Fail(); } }
        public string error { get { throw Stubs.Fail(); } }
        public DownloadHandler downloadHandler { get { throw Stubs.Fail(); } }
        public void Dispose() { throw Stubs.Fail(); }
    }
}
