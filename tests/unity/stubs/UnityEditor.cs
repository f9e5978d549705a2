// STUBS FOR COMPILATION ONLY. Not Unity, not a Unity replacement, never run, never shipped.
// The few UnityEditor types and members the AssetGen Unity package's Editor scripts use, with
// the signatures of Unity's scripting reference (2021.3), so tests/unity can compile those
// scripts with Mono's mcs. Every body throws.
using System;
using UnityEngine;

namespace UnityEditor
{
    public class AssetImporter : UnityEngine.Object { }

    public sealed class TextureImporter : AssetImporter
    {
        public TextureImporterType textureType { get { throw Stub(); } set { throw Stub(); } }
        public SpriteImportMode spriteImportMode { get { throw Stub(); } set { throw Stub(); } }
        public FilterMode filterMode { get { throw Stub(); } set { throw Stub(); } }
        public bool mipmapEnabled { get { throw Stub(); } set { throw Stub(); } }
        public bool alphaIsTransparency { get { throw Stub(); } set { throw Stub(); } }
        public TextureImporterCompression textureCompression { get { throw Stub(); } set { throw Stub(); } }
        public SpriteMetaData[] spritesheet { get { throw Stub(); } set { throw Stub(); } }
        static Exception Stub() { return new NotImplementedException("compile-only stub"); }
    }

    public enum TextureImporterType { Default = 0, Sprite = 8 }

    public enum SpriteImportMode { None = 0, Single = 1, Multiple = 2, Polygon = 3 }

    public enum TextureImporterCompression { Uncompressed = 0, Compressed = 1 }

    public struct SpriteMetaData
    {
        public string name;
        public Rect rect;
        public int alignment;
        public Vector2 pivot;
    }

    public class AssetPostprocessor
    {
        public string assetPath { get { throw new NotImplementedException(); } }
        public AssetImporter assetImporter { get { throw new NotImplementedException(); } }
    }

    [Flags]
    public enum ImportAssetOptions { Default = 0, ForceUpdate = 1 }

    public static class AssetDatabase
    {
        public static UnityEngine.Object[] LoadAllAssetsAtPath(string assetPath) { throw new NotImplementedException(); }
        public static T LoadAssetAtPath<T>(string assetPath) where T : UnityEngine.Object { throw new NotImplementedException(); }
        public static void CreateAsset(UnityEngine.Object asset, string path) { throw new NotImplementedException(); }
        public static void ImportAsset(string path, ImportAssetOptions options) { throw new NotImplementedException(); }
        public static void SaveAssets() { throw new NotImplementedException(); }
        public static void Refresh() { throw new NotImplementedException(); }
    }

    public struct EditorCurveBinding
    {
        public static EditorCurveBinding PPtrCurve(string inPath, Type inType, string inPropertyName) { throw new NotImplementedException(); }
    }

    public struct ObjectReferenceKeyframe
    {
        public float time;
        public UnityEngine.Object value;
    }

    public class AnimationClipSettings
    {
        public bool loopTime;
    }

    public static class AnimationUtility
    {
        public static void SetObjectReferenceCurve(AnimationClip clip, EditorCurveBinding binding, ObjectReferenceKeyframe[] keyframes) { throw new NotImplementedException(); }
        public static AnimationClipSettings GetAnimationClipSettings(AnimationClip clip) { throw new NotImplementedException(); }
        public static void SetAnimationClipSettings(AnimationClip clip, AnimationClipSettings srcClipInfo) { throw new NotImplementedException(); }
    }

    public static class EditorUtility
    {
        public static void CopySerialized(UnityEngine.Object source, UnityEngine.Object dest) { throw new NotImplementedException(); }
        public static void SetDirty(UnityEngine.Object target) { throw new NotImplementedException(); }
        public static bool DisplayDialog(string title, string message, string ok) { throw new NotImplementedException(); }
    }

    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class MenuItem : Attribute
    {
        public MenuItem(string itemName) { }
    }
}
